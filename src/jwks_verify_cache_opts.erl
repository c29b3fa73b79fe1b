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
-define(KNOWN, [jwks_uri, jwks, jwks_file, allow_http, ttl, min_ttl, max_ttl, refetch_interval,
                negative_ttl, stale_ceiling, connect_timeout, timeout, max_body_bytes,
                max_redirects, await_first_fetch, ssl, backoff_initial, backoff_max,
                token_cache]).

%%--------------------------------------------------------------------
%% Checking options
%%--------------------------------------------------------------------

%% @doc Checks the options of `jwks_verify_cache:start_link/2' (see
%% `jwks_verify_cache:opts()'); raises `{badarg, Description}'.
-spec config(jwks_verify_cache:opts()) -> #cache_cfg{}.
config(Opts) ->
    Cfg = maps:fold(fun option/3, #cache_cfg{}, Opts),
    case Cfg of
        #cache_cfg{source = undefined} ->
            erlang:error({badarg, "one of jwks_uri, jwks or jwks_file is required"});
        #cache_cfg{source = {uri, Uri}, allow_http = AllowHttp} ->
            case jwks_verify_cache_http:allowed_uri(Uri, AllowHttp) of
                ok -> ok;
                {error, {insecure_uri, _}} ->
                    erlang:error({badarg, {"jwks_uri must be https (set allow_http for tests "
                                           "on loopback), got", list_to_binary(Uri)}});
                {error, _} ->
                    erlang:error({badarg, {"jwks_uri is not an absolute URL", list_to_binary(Uri)}})
            end;
        _ ->
            ok
    end,
    Cfg#cache_cfg.max_ttl >= Cfg#cache_cfg.min_ttl orelse
        erlang:error({badarg, {"max_ttl must be >= min_ttl", Cfg#cache_cfg.max_ttl,
                               Cfg#cache_cfg.min_ttl}}),
    Cfg#cache_cfg.backoff_max >= Cfg#cache_cfg.backoff_initial orelse
        erlang:error({badarg, {"backoff_max must be >= backoff_initial",
                               Cfg#cache_cfg.backoff_max, Cfg#cache_cfg.backoff_initial}}),
    Cfg.

option(Key, Value, #cache_cfg{source = Source}) when
    Source =/= undefined, (Key =:= jwks_uri orelse Key =:= jwks orelse Key =:= jwks_file)
->
    erlang:error({badarg, {"give only one of jwks_uri, jwks, jwks_file; got", Key, Value}});
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
            erlang:error({badarg, {"jwks is not a usable JWKS", Reason}})
    end;
option(jwks_file, Path, C) when is_binary(Path); is_list(Path) ->
    case read_file(Path) of
        {ok, KeySet} -> C#cache_cfg{source = {file, Path}, static = KeySet};
        {error, Reason} -> erlang:error({badarg, {"jwks_file can't be used", Path, Reason}})
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
        false -> erlang:error({badarg, {"unknown cache option", Key, {known, ?KNOWN}}})
    end.

bad(Key, Value) ->
    erlang:error({badarg, {"bad value for cache option", Key, Value}}).

usable(Key, KeySet) ->
    case jwks_verify:key_set_info(KeySet) of
        #{usable := 0} -> erlang:error({badarg, {"no usable key in", Key}});
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
