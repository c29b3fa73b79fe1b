%% @private
%% @doc The cache's options, checked once in the caller of
%% `jwks_verify_cache:start_link/2' into a `#cache_cfg{}' (Plug's `init/1'):
%% a mistake raises `{badarg, Description}'. A static source (`jwks',
%% `jwks_file') is parsed here, so a bad one fails the start.
-module(jwks_verify_cache_opts).

%% Checking options
-export([config/1]).
%% Static sources
-export([read_file/1]).

-include("jwks_verify_cache.hrl").

-define(TOKEN_CACHE_DEFAULT, 10000).
-define(KNOWN, [issuer, jwks_uri, jwks, jwks_file, allow_http, ttl, min_ttl, max_ttl,
                refetch_interval, negative_ttl, stale_ceiling, connect_timeout, timeout,
                max_body_bytes, max_redirects, await_first_fetch, ssl, backoff_initial,
                backoff_max, token_cache]).

%%--------------------------------------------------------------------
%% Checking options
%%--------------------------------------------------------------------

%% @doc Checks the options of `jwks_verify_cache:start_link/2' (see
%% `jwks_verify_cache:opts()'); raises `{badarg, Description}'.
-spec config(jwks_verify_cache:opts()) -> #cache_cfg{}.
config(Opts) ->
    Cfg = jwks_verify_cache_discovery:config(maps:fold(fun option/3, #cache_cfg{}, Opts)),
    case Cfg of
        #cache_cfg{source = undefined} ->
            jwks_verify_badarg:error("one of the options issuer, jwks_uri, jwks or jwks_file "
                                     "is required");
        #cache_cfg{source = {uri, Uri}, allow_http = AllowHttp} ->
            case jwks_verify_cache_http:allowed_uri(Uri, AllowHttp) of
                ok -> ok;
                {error, {insecure_uri, _}} ->
                    jwks_verify_badarg:bad_value(jwks_uri, list_to_binary(Uri),
                                                 "an https URL (allow_http: true allows http, "
                                                 "for tests on loopback)");
                {error, _} ->
                    jwks_verify_badarg:bad_value(jwks_uri, list_to_binary(Uri),
                                                 "an absolute https URL")
            end;
        _ ->
            ok
    end,
    Cfg#cache_cfg.max_ttl >= Cfg#cache_cfg.min_ttl orelse
        jwks_verify_badarg:bad_value(max_ttl, Cfg#cache_cfg.max_ttl,
                                     ["at least min_ttl (",
                                      integer_to_list(Cfg#cache_cfg.min_ttl), ")"]),
    Cfg#cache_cfg.backoff_max >= Cfg#cache_cfg.backoff_initial orelse
        jwks_verify_badarg:bad_value(backoff_max, Cfg#cache_cfg.backoff_max,
                                     ["at least backoff_initial (",
                                      integer_to_list(Cfg#cache_cfg.backoff_initial), ")"]),
    Cfg.

option(Key, Value, #cache_cfg{source = Source}) when
    Source =/= undefined, (Key =:= jwks_uri orelse Key =:= jwks orelse Key =:= jwks_file)
->
    jwks_verify_badarg:bad_value(Key, Value, "only one of jwks_uri, jwks and jwks_file");
option(jwks_uri, Uri, C) when is_binary(Uri); is_list(Uri) ->
    case unicode:characters_to_list(Uri) of
        L when is_list(L), L =/= [] -> C#cache_cfg{source = {uri, L}};
        _ -> bad(jwks_uri, Uri)
    end;
option(jwks, Json, C) when is_binary(Json); is_list(Json) ->
    case jwks_verify:key_set(Json) of
        {ok, KeySet} ->
            C#cache_cfg{source = {json, iolist_to_binary(Json)}, static = usable(jwks, KeySet)};
        {error, Reason} ->
            jwks_verify_badarg:bad_value(jwks, Reason, "a usable JWKS document (it was refused)")
    end;
option(jwks_file, Path, C) when is_binary(Path); is_list(Path) ->
    case read_file(Path) of
        {ok, KeySet} -> C#cache_cfg{source = {file, Path}, static = KeySet};
        {error, Reason} ->
            jwks_verify_badarg:bad_value(jwks_file, {Path, Reason},
                                         "a readable file holding a usable JWKS")
    end;
option(issuer, Iss, C) when is_binary(Iss); is_list(Iss) ->
    case unicode:characters_to_binary(Iss) of
        B when is_binary(B), B =/= <<>> -> C#cache_cfg{issuer = B};
        _ -> bad(issuer, Iss)
    end;
option(allow_http, V, C) when is_boolean(V) -> C#cache_cfg{allow_http = V};
option(ttl, V, C) when is_integer(V), V > 0 -> C#cache_cfg{ttl = V};
option(min_ttl, V, C) when is_integer(V), V >= 0 -> C#cache_cfg{min_ttl = V};
option(max_ttl, V, C) when is_integer(V), V > 0 -> C#cache_cfg{max_ttl = V};
option(refetch_interval, V, C) when is_integer(V), V >= 0 -> C#cache_cfg{refetch_interval = V};
option(negative_ttl, V, C) when is_integer(V), V >= 0 -> C#cache_cfg{negative_ttl = V};
option(stale_ceiling, V, C) when is_integer(V), V >= 0 -> C#cache_cfg{stale_ceiling = V};
option(connect_timeout, V, C) when is_integer(V), V > 0 -> C#cache_cfg{connect_timeout = V};
option(timeout, V, C) when is_integer(V), V > 0 -> C#cache_cfg{timeout = V};
option(max_body_bytes, V, C) when is_integer(V), V > 0 -> C#cache_cfg{max_body_bytes = V};
option(max_redirects, V, C) when is_integer(V), V >= 0 -> C#cache_cfg{max_redirects = V};
option(await_first_fetch, V, C) when is_integer(V), V >= 0 ->
    C#cache_cfg{await_first_fetch = V};
option(ssl, V, C) when is_list(V) -> C#cache_cfg{ssl = V};
option(backoff_initial, V, C) when is_integer(V), V > 0 -> C#cache_cfg{backoff_initial = V};
option(backoff_max, V, C) when is_integer(V), V > 0 -> C#cache_cfg{backoff_max = V};
option(token_cache, false, C) -> C#cache_cfg{token_cache = 0};
option(token_cache, true, C) -> C#cache_cfg{token_cache = ?TOKEN_CACHE_DEFAULT};
option(token_cache, V, C) when is_integer(V), V > 0 -> C#cache_cfg{token_cache = V};
option(Key, Value, _C) ->
    case lists:member(Key, ?KNOWN) of
        true -> bad(Key, Value);
        false -> jwks_verify_badarg:unknown_option(Key, ?KNOWN)
    end.

bad(Key, Value) ->
    jwks_verify_badarg:bad_value(Key, Value, expected(Key)).

expected(issuer) -> "a non-empty string (the issuer identifier, as tokens name it in iss)";
expected(jwks_uri) -> "a non-empty URL string";
expected(jwks) -> "a JWKS document as a binary or iodata";
expected(jwks_file) -> "a file name";
expected(allow_http) -> "a boolean";
expected(ssl) -> "a list of ssl client options";
expected(token_cache) -> "a boolean or a positive integer (entries)";
expected(Key) when Key =:= min_ttl; Key =:= refetch_interval; Key =:= negative_ttl;
                   Key =:= stale_ceiling; Key =:= await_first_fetch ->
    "a non-negative integer (milliseconds)";
expected(max_redirects) -> "a non-negative integer";
expected(max_body_bytes) -> "a positive integer (bytes)";
expected(_) -> "a positive integer (milliseconds)".

usable(Key, KeySet) ->
    case jwks_verify:key_set_info(KeySet) of
        #{usable := 0} -> jwks_verify_badarg:bad_value(Key, KeySet, "a JWKS with a usable key");
        _ -> KeySet
    end.

%%--------------------------------------------------------------------
%% Static sources
%%--------------------------------------------------------------------

%% @doc Reads a `jwks_file': at start (through {@link config/1}) and on
%% each `refresh'. Only a usable key set is accepted.
-spec read_file(file:filename_all()) ->
    {ok, jwks_verify:key_set()}
    | {error, {file, file:posix() | badarg | terminated | system_limit}
              | {bad_jwks, jwks_verify:reason()} | no_usable_keys}.
read_file(Path) ->
    case file:read_file(Path) of
        {ok, Json} ->
            case jwks_verify:key_set(Json) of
                {ok, KeySet} ->
                    case jwks_verify:key_set_info(KeySet) of
                        #{usable := 0} -> {error, no_usable_keys};
                        _ -> {ok, KeySet}
                    end;
                {error, Reason} ->
                    {error, {bad_jwks, Reason}}
            end;
        {error, Reason} ->
            {error, {file, Reason}}
    end.
