%% @private
%% @doc OpenID Connect Discovery for the cache: a cache started from its
%% `issuer' alone reads the issuer's metadata, takes its `jwks_uri', and then
%% fetches the JWKS from there as a `jwks_uri' cache does.
%%
%% The metadata is `{Issuer}/.well-known/openid-configuration' (OpenID
%% Connect Discovery 1.0 §4, a terminating "/" of the issuer removed first),
%% else RFC 8414's `/.well-known/oauth-authorization-server' inserted between
%% the host and the issuer's path (RFC 8414 §3.1), tried when the first
%% answers a 4xx or something other than a JSON object. The document's
%% `issuer' must equal the configured one exactly (OpenID Connect Discovery
%% §4.3, RFC 8414 §3.3) and its `jwks_uri' must be `https' (unless
%% `allow_http'); the same TLS rules, `max_body_bytes' (capped at what
%% {@link decode/1} reads, 4 MiB), redirects and `timeout' as the JWKS
%% fetch apply (one `timeout' covers both requests).
%%
%% The document is read again with the first key set fetch after its own
%% freshness ends (`Cache-Control'/`Expires' clamped to `[min_ttl,
%% max_ttl]', a day without them) and on `refresh'. A failed re-read keeps
%% the `jwks_uri' it had, so the key set keeps being refreshed and is never
%% dropped for it; the failure shows in `info' (`discovery.last_error'), is
%% logged, and is retried after `min_ttl'. Before the first good document, a
%% failed read is a failed fetch (`{discovery, Reason}').
%%
%% {@link fetch/4} runs in the cache's fetch worker with the state the cache
%% process keeps ({@link new/1}) and hands the new state back with the
%% outcome; the rest are pure functions, tested without a server.
-module(jwks_verify_cache_discovery).

%% Options
-export([config/1]).
%% State in the cache process
-export([new/1, info/1]).
%% Fetching (in the fetch worker)
-export([fetch/4]).
%% Metadata (pure)
-export([document_uris/1, check_document/3, decode/1, max_document_bytes/0]).

-export_type([discovery/0, reason/0]).

-include_lib("kernel/include/logger.hrl").
-include("jwks_verify_cache.hrl").

%% Freshness of a document whose response says nothing.
-define(DEFAULT_TTL, 86400000).
%% Issuer values from a refused document are cut to this many bytes in errors.
-define(MAX_ECHO, 256).
%% The largest document decode/1 reads (the core's limit for a JWKS document).
-define(MAX_DOCUMENT_BYTES, (4 * 1024 * 1024)).

-record(discovery, {
    issuer :: string(),
    %% from the last good document, and the URL it came from
    jwks_uri :: string() | undefined,
    document_uri :: string() | undefined,
    fetched_at :: integer() | undefined,
    %% monotonic ms: read the document again from then on
    refresh_at :: integer() | undefined,
    failures = 0 :: non_neg_integer(),
    last_error :: reason() | undefined
}).

-opaque discovery() :: #discovery{}.
%% Why a document was refused, or the fetch's own reason (`timeout',
%% `{http_status, S}', `{body_too_large, Max}', `{connect_failed, R}', ...).
-type reason() ::
    {issuer_mismatch, binary() | not_a_string} | {missing, binary()}
    | {insecure_jwks_uri, binary()} | {bad_jwks_uri, binary() | not_a_string} | bad_json
    | term().

%%--------------------------------------------------------------------
%% Options
%%--------------------------------------------------------------------

%% @doc Completes checked options: `issuer' without another source means
%% discovery, from an `https' URL with no query or fragment (OpenID Connect
%% Discovery §2). Raises `{badarg, Description}'.
-spec config(#cache_cfg{}) -> #cache_cfg{}.
config(#cache_cfg{source = undefined, issuer = Issuer, allow_http = AllowHttp} = Cfg) when
    Issuer =/= undefined
->
    Uri = unicode:characters_to_list(Issuer),
    case {jwks_verify_cache_http:allowed_uri(Uri, AllowHttp), uri_string:parse(Uri)} of
        {ok, #{query := _}} ->
            bad_issuer(Issuer);
        {ok, #{fragment := _}} ->
            bad_issuer(Issuer);
        {ok, _} ->
            Cfg#cache_cfg{source = {discovery, Uri}};
        {{error, {insecure_uri, _}}, _} ->
            jwks_verify_badarg:bad_value(issuer, Issuer,
                                         "an https URL (allow_http: true allows http, for tests "
                                         "on loopback), or jwks_uri beside it");
        {{error, _}, _} ->
            bad_issuer(Issuer)
    end;
config(Cfg) ->
    Cfg.

bad_issuer(Issuer) ->
    jwks_verify_badarg:bad_value(issuer, Issuer,
                                 "an https URL without query or fragment to discover the JWKS "
                                 "from, or jwks_uri beside it").

%%--------------------------------------------------------------------
%% State in the cache process
%%--------------------------------------------------------------------

%% @doc The cache's discovery state: `undefined' unless it starts from its
%% issuer alone.
-spec new(#cache_cfg{}) -> discovery() | undefined.
new(#cache_cfg{source = {discovery, Issuer}}) -> #discovery{issuer = Issuer};
new(#cache_cfg{}) -> undefined.

%% @doc For `jwks_verify_cache:info/1': the document's URL and the
%% `jwks_uri' it gave, when it was read and will be read again (system time
%% ms), failed reads since the last good one and the last one's reason.
-spec info(discovery() | undefined) -> map() | undefined.
info(undefined) ->
    undefined;
info(#discovery{} = D) ->
    #{document_uri => binary_or_undefined(D#discovery.document_uri),
      jwks_uri => binary_or_undefined(D#discovery.jwks_uri),
      fetched_at => to_system(D#discovery.fetched_at),
      refresh_at => to_system(D#discovery.refresh_at),
      consecutive_failures => D#discovery.failures,
      last_error => D#discovery.last_error}.

binary_or_undefined(undefined) -> undefined;
binary_or_undefined(S) -> unicode:characters_to_binary(S).

to_system(undefined) -> undefined;
to_system(T) -> T + erlang:time_offset(millisecond).

%%--------------------------------------------------------------------
%% Fetching
%%--------------------------------------------------------------------

%% @doc One fetch of the cache (`Kind' as the cache process names it): the
%% JWKS, after reading the issuer's metadata when it is due (or `Kind' is
%% `manual', a `refresh'). Answers the outcome in the shape of
%% `jwks_verify_cache_http:fetch/2' and the new state. Never raises.
-spec fetch(#cache_cfg{}, discovery() | undefined, string() | undefined, atom()) ->
    {jwks_verify_cache_http:fetched(), discovery() | undefined}.
fetch(Cfg, undefined, Etag, _Kind) ->
    {jwks_verify_cache_http:fetch(Cfg, Etag), undefined};
fetch(Cfg, #discovery{} = D0, Etag, Kind) ->
    Deadline = ?NOW_MS() + Cfg#cache_cfg.timeout,
    D = case Kind =:= manual orelse due(D0, ?NOW_MS()) of
        true -> discover(Cfg, Deadline, D0);
        false -> D0
    end,
    jwks(Cfg, Deadline, D0, D, Etag).

jwks(Cfg, Deadline, D0, D, Etag) ->
    case {D#discovery.jwks_uri, within(Cfg, Deadline)} of
        {undefined, _} ->
            {{error, {discovery, D#discovery.last_error}}, D};
        {_, timeout} ->
            {{error, timeout}, D};
        {Uri, Cfg1} ->
            %% An ETag names a version of the old URL's document, not the new one's.
            Etag1 = case Uri =:= D0#discovery.jwks_uri of
                true -> Etag;
                false -> undefined
            end,
            {jwks_verify_cache_http:fetch(Cfg1#cache_cfg{source = {uri, Uri}}, Etag1), D}
    end.

due(#discovery{jwks_uri = undefined}, _Now) -> true;
due(#discovery{refresh_at = At}, Now) -> Now >= At.

%% The options for a request that must end by Deadline.
within(Cfg, Deadline) ->
    case Deadline - ?NOW_MS() of
        Left when Left > 0 -> Cfg#cache_cfg{timeout = Left};
        _ -> timeout
    end.

discover(#cache_cfg{source = {discovery, Issuer}} = Cfg, Deadline, D0) ->
    Read = try
        read(Issuer, Cfg, Deadline)
    catch
        Class:Crash -> {error, undefined, {Class, Crash}}
    end,
    case Read of
        {ok, DocUri, JwksUri, Ttl} ->
            Now = ?NOW_MS(),
            JwksUri =:= D0#discovery.jwks_uri orelse
                ?LOG_INFO("jwks_verify_cache: issuer ~ts: jwks_uri ~ts (from ~ts)",
                          [Issuer, JwksUri, DocUri]),
            D0#discovery{jwks_uri = JwksUri, document_uri = DocUri, fetched_at = Now,
                         refresh_at = Now + Ttl, failures = 0, last_error = undefined};
        {error, DocUri, Reason} ->
            %% Before the first good document, the cache reports the failed
            %% fetch; after it, the key set is safe and this is the report.
            D0#discovery.jwks_uri =:= undefined orelse
                ?LOG_WARNING("jwks_verify_cache: issuer ~ts: reading ~ts failed: ~0p; "
                             "keeping jwks_uri ~ts", [Issuer, DocUri, Reason,
                                                      D0#discovery.jwks_uri]),
            D0#discovery{refresh_at = ?NOW_MS() + Cfg#cache_cfg.min_ttl,
                         failures = D0#discovery.failures + 1, last_error = Reason}
    end.

%% The OpenID document, else RFC 8414's when the first is not there; when
%% neither is, the first one's reason is the one reported.
read(Issuer, Cfg, Deadline) ->
    [OpenId, OAuth] = document_uris(Issuer),
    case document(OpenId, Cfg, Deadline) of
        {ok, JwksUri, Ttl} ->
            {ok, OpenId, JwksUri, Ttl};
        {error, Reason} ->
            case absent(Reason) andalso document(OAuth, Cfg, Deadline) of
                false ->
                    {error, OpenId, Reason};
                {ok, JwksUri, Ttl} ->
                    {ok, OAuth, JwksUri, Ttl};
                {error, Again} ->
                    case absent(Again) of
                        true -> {error, OpenId, Reason};
                        false -> {error, OAuth, Again}
                    end
            end
    end.

%% No document at this URL: a 4xx, or a 200 that is not a JSON object (a
%% web app's catch-all page). Anything else refuses the document found.
absent({http_status, S}) -> S >= 400 andalso S < 500;
absent(bad_json) -> true;
absent(_) -> false.

%% The jwks_uri of the document at DocUri, read by Deadline.
document(DocUri, #cache_cfg{source = {discovery, Issuer}, max_body_bytes = Max} = Cfg,
         Deadline) ->
    case within(Cfg#cache_cfg{max_body_bytes = min(Max, ?MAX_DOCUMENT_BYTES)}, Deadline) of
        timeout -> {error, timeout};
        Limited -> get_document(DocUri, Limited, Issuer)
    end.

get_document(DocUri, Cfg, Issuer) ->
    case jwks_verify_cache_http:get(DocUri, Cfg) of
        {ok, Headers, Body} ->
            case decode(Body) of
                {ok, Doc} ->
                    case check_document(Doc, unicode:characters_to_binary(Issuer),
                                        Cfg#cache_cfg.allow_http) of
                        {ok, JwksUri} -> {ok, JwksUri, ttl(Headers, Cfg)};
                        Error -> Error
                    end;
                Error ->
                    Error
            end;
        Error ->
            Error
    end.

ttl(Headers, Cfg) ->
    case jwks_verify_cache_http:ttl(Headers, Cfg, calendar:universal_time()) of
        undefined -> ?DEFAULT_TTL;
        Ms -> Ms
    end.

%%--------------------------------------------------------------------
%% Metadata
%%--------------------------------------------------------------------

%% @doc Where the metadata of `Issuer' is, in the order tried: OpenID
%% Connect Discovery §4 (`Issuer' less a terminating "/", then
%% `/.well-known/openid-configuration'), then RFC 8414 §3.1
%% (`/.well-known/oauth-authorization-server' between the host and the
%% path, the path's terminating "/" removed).
-spec document_uris(string()) -> [string()].
document_uris(Issuer) ->
    #{path := Path} = Parsed = uri_string:parse(Issuer),
    [drop_slash(Issuer) ++ "/.well-known/openid-configuration",
     uri_string:recompose(Parsed#{path => "/.well-known/oauth-authorization-server"
                                          ++ drop_slash(Path)})].

drop_slash(S) ->
    case lists:reverse(S) of
        "/" ++ Rest -> lists:reverse(Rest);
        _ -> S
    end.

%% @doc The `jwks_uri' of a metadata document, when its `issuer' is
%% exactly `Issuer' and the URL an allowed one (`https', or `http' with
%% `AllowHttp').
-spec check_document(map(), binary(), boolean()) -> {ok, string()} | {error, reason()}.
check_document(#{<<"issuer">> := Issuer} = Doc, Issuer, AllowHttp) ->
    case Doc of
        #{<<"jwks_uri">> := Uri} when is_binary(Uri) ->
            case jwks_verify_cache_http:allowed_uri(unicode:characters_to_list(Uri), AllowHttp) of
                ok -> {ok, unicode:characters_to_list(Uri)};
                {error, {insecure_uri, _}} -> {error, {insecure_jwks_uri, echo(Uri)}};
                {error, _} -> {error, {bad_jwks_uri, echo(Uri)}}
            end;
        #{<<"jwks_uri">> := _} ->
            {error, {bad_jwks_uri, not_a_string}};
        #{} ->
            {error, {missing, <<"jwks_uri">>}}
    end;
check_document(#{<<"issuer">> := Other}, _Issuer, _AllowHttp) when is_binary(Other) ->
    {error, {issuer_mismatch, echo(Other)}};
check_document(#{<<"issuer">> := _}, _Issuer, _AllowHttp) ->
    {error, {issuer_mismatch, not_a_string}};
check_document(#{}, _Issuer, _AllowHttp) ->
    {error, {missing, <<"issuer">>}}.

echo(B) when byte_size(B) > ?MAX_ECHO -> <<(binary:part(B, 0, ?MAX_ECHO))/binary, "...">>;
echo(B) -> B.

%% @doc A metadata document (a JSON object) as a map, read by the C core's
%% JSON parser, the one tokens go through: strict RFC 8259, UTF-8, duplicate
%% members refused, nesting at most 32. OTP 25 has no JSON module and the
%% core reads JSON only inside tokens, so the document goes in as the
%% payload of an unsigned token (header `{}', empty signature) that
%% `jwks_verify:peek_unverified/1' decodes, checking nothing but its shape;
%% this is no verification and none is needed: the document is trusted for
%% coming from the issuer over TLS, and only its `issuer' and `jwks_uri' are
%% read. Documents over {@link max_document_bytes/0} do not fit.
-spec decode(binary()) -> {ok, map()} | {error, bad_json | {body_too_large, pos_integer()}}.
decode(Body) when byte_size(Body) > ?MAX_DOCUMENT_BYTES ->
    {error, {body_too_large, ?MAX_DOCUMENT_BYTES}};
decode(Body) ->
    Token = <<"e30.", (b64url(Body))/binary, ".">>,
    case jwks_verify:peek_unverified(Token, #{max_token_bytes => byte_size(Token)}) of
        {ok, #{claims := Doc}} -> {ok, Doc};
        {error, _} -> {error, bad_json}
    end.

b64url(Bin) ->
    << <<(case C of $+ -> $-; $/ -> $_; _ -> C end)>> || <<C>> <= base64:encode(Bin), C =/= $= >>.

%% @doc The largest discovery document the cache reads (4 MiB, as for a
%% JWKS; `max_body_bytes' when smaller). Real ones are a few kilobytes.
-spec max_document_bytes() -> pos_integer().
max_document_bytes() ->
    ?MAX_DOCUMENT_BYTES.
