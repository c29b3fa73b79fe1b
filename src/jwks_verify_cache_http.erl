%% @private
%% @doc The cache's HTTP fetch: one conditional GET of the JWKS with OTP
%% `httpc' (TLS peer and host name verified, size and time limits held
%% while reading, redirects followed by hand), and the key set's freshness
%% from the response (RFC 9111). {@link fetch/2} runs in a short-lived
%% worker process; the rest are pure functions of the options and the
%% response, so they are tested without a server.
-module(jwks_verify_cache_http).

%% Fetching
-export([ensure_started/0, fetch/2, get/2]).
%% Requests and responses (pure)
-export([request_headers/1, redirect/4, content_length/1, simplify/1]).
%% Freshness (pure)
-export([ttl/3, header_ttl/2, etag/1]).
%% URLs and TLS (pure)
-export([allowed_uri/2, ssl_options/2]).

-export_type([fetched/0, headers/0]).

-include("jwks_verify_cache.hrl").

-define(PROFILE, jwks_verify_cache).
-define(USER_AGENT, "jwks_verify").

%% httpc's response headers: names in lower case.
-type headers() :: [{string(), string()}].
%% What a fetch brings: a usable key set (200), a confirmation (304), or why not.
-type fetched() ::
    {ok, #{status := 200, key_set := jwks_verify:key_set(), info := map(), hash := binary(),
           bytes := non_neg_integer(), ttl := non_neg_integer() | undefined,
           etag := string() | undefined}}
    | {not_modified, #{status := 304, ttl := non_neg_integer() | undefined,
                       etag := string() | undefined}}
    | {error, term()}.

%%--------------------------------------------------------------------
%% Fetching
%%--------------------------------------------------------------------

%% @doc Starts `ssl', `inets' and the cache's own `httpc' profile.
-spec ensure_started() -> ok.
ensure_started() ->
    {ok, _} = application:ensure_all_started(ssl),
    {ok, _} = application:ensure_all_started(inets),
    case inets:start(httpc, [{profile, ?PROFILE}]) of
        {ok, _} -> ok;
        {error, {already_started, _}} -> ok
    end.

%% @doc Fetches the JWKS at the configured URL within `timeout' (redirects
%% included); conditional on `Etag' when not `undefined'. Only a usable key
%% set counts as a 200: a malformed, empty or all-refused document is an
%% error, so it never replaces the current one. Never raises.
-spec fetch(#cache_cfg{}, string() | undefined) -> fetched().
fetch(#cache_cfg{source = {uri, Uri}} = Cfg, Etag) ->
    Deadline = ?NOW_MS() + Cfg#cache_cfg.timeout,
    try
        http_get(Uri, request_headers(Etag), Etag =/= undefined, Cfg, Cfg#cache_cfg.max_redirects,
            Deadline, fun(Body, RespHeaders) -> parse(Body, RespHeaders, Cfg) end)
    catch
        Class:Reason -> {error, {Class, Reason}}
    end.

%% @doc GETs another JSON document of the issuer (its discovery metadata)
%% under the rules of {@link fetch/2}: TLS, `allow_http', redirects,
%% `max_body_bytes' and `timeout'. Answers a 200's headers and body. Never
%% raises.
-spec get(string(), #cache_cfg{}) -> {ok, headers(), binary()} | {error, term()}.
get(Uri, Cfg) ->
    Deadline = ?NOW_MS() + Cfg#cache_cfg.timeout,
    Headers = [{"accept", "application/json"}, {"user-agent", ?USER_AGENT}],
    try
        http_get(Uri, Headers, false, Cfg, Cfg#cache_cfg.max_redirects, Deadline,
                 fun(Body, RespHeaders) -> {ok, RespHeaders, Body} end)
    catch
        Class:Reason -> {error, {Class, Reason}}
    end.

http_get(Uri, Headers, Conditional, Cfg, Hops, Deadline, Ok) ->
    case request(Uri, Headers, Cfg, Deadline) of
        {ok, 200, RespHeaders, Body} ->
            Ok(Body, RespHeaders);
        {ok, 304, RespHeaders, _} when Conditional ->
            {not_modified, #{status => 304, ttl => ttl(RespHeaders, Cfg, utc_now()),
                             etag => etag(RespHeaders)}};
        {ok, Status, RespHeaders, _} ->
            case redirect(Status, RespHeaders, Uri, Hops) of
                {follow, Next} ->
                    case allowed_uri(Next, Cfg#cache_cfg.allow_http) of
                        ok -> http_get(Next, Headers, Conditional, Cfg, Hops - 1, Deadline, Ok);
                        {error, _} = Error -> Error
                    end;
                {error, _} = Error ->
                    Error
            end;
        {error, _} = Error ->
            Error
    end.

request(Uri, Headers, Cfg, Deadline) ->
    case Deadline - ?NOW_MS() of
        Left when Left =< 0 ->
            {error, timeout};
        Left ->
            HttpOpts = [{timeout, Left},
                        {connect_timeout, min(Cfg#cache_cfg.connect_timeout, Left)},
                        {autoredirect, false}]
                       ++ [{ssl, ssl_options(Uri, Cfg)} || is_https(Uri)],
            Opts = [{sync, false}, {stream, {self, once}}, {body_format, binary}],
            case httpc:request(get, {Uri, Headers}, HttpOpts, Opts, ?PROFILE) of
                {ok, ReqId} -> response(ReqId, Deadline, Cfg#cache_cfg.max_body_bytes);
                {error, Reason} -> {error, simplify(Reason)}
            end
    end.

%% A 200 streams in, one chunk at a time ({self, once}): the size limit holds
%% while reading, whatever Content-Length says. Other statuses come whole.
response(ReqId, Deadline, Max) ->
    receive
        {http, {ReqId, stream_start, Headers, Pid}} ->
            case content_length(Headers) of
                N when is_integer(N), N > Max ->
                    cancel(ReqId, {body_too_large, Max});
                _ ->
                    ok = httpc:stream_next(Pid),
                    body(ReqId, Pid, Headers, [], 0, Deadline, Max)
            end;
        {http, {ReqId, {{_, Status, _}, Headers, Body}}} ->
            {ok, Status, Headers, Body};
        {http, {ReqId, {error, Reason}}} ->
            {error, simplify(Reason)}
    after max(0, Deadline - ?NOW_MS()) ->
        cancel(ReqId, timeout)
    end.

body(ReqId, Pid, Headers, Acc, Size, Deadline, Max) ->
    receive
        {http, {ReqId, stream, Part}} when Size + byte_size(Part) > Max ->
            cancel(ReqId, {body_too_large, Max});
        {http, {ReqId, stream, Part}} ->
            ok = httpc:stream_next(Pid),
            body(ReqId, Pid, Headers, [Acc, Part], Size + byte_size(Part), Deadline, Max);
        {http, {ReqId, stream_end, _Trailers}} ->
            {ok, 200, Headers, iolist_to_binary(Acc)};
        {http, {ReqId, {error, Reason}}} ->
            {error, simplify(Reason)}
    after max(0, Deadline - ?NOW_MS()) ->
        cancel(ReqId, timeout)
    end.

cancel(ReqId, Reason) ->
    _ = httpc:cancel_request(ReqId, ?PROFILE),
    {error, Reason}.

parse(Body, Headers, Cfg) ->
    case jwks_verify:key_set(Body) of
        {ok, KeySet} ->
            case jwks_verify:key_set_info(KeySet) of
                #{usable := 0} ->
                    {error, no_usable_keys};
                Info ->
                    {ok, #{status => 200, key_set => KeySet, info => Info,
                           hash => crypto:hash(sha256, Body), bytes => byte_size(Body),
                           ttl => ttl(Headers, Cfg, utc_now()), etag => etag(Headers)}}
            end;
        {error, Reason} ->
            {error, {bad_jwks, Reason}}
    end.

utc_now() -> calendar:universal_time().

%%--------------------------------------------------------------------
%% Requests and responses
%%--------------------------------------------------------------------

%% @doc The request's headers: conditional (`If-None-Match') when an ETag
%% is known.
-spec request_headers(string() | undefined) -> headers().
request_headers(Etag) ->
    [{"accept", "application/jwk-set+json, application/json"}, {"user-agent", ?USER_AGENT}]
    ++ [{"if-none-match", Etag} || Etag =/= undefined].

%% @doc What to do with a response that is neither a 200 nor an expected
%% 304, with `Hops' redirects left: follow a redirect's `Location' (resolved
%% against `Uri'; the caller still checks its scheme), or fail.
-spec redirect(100..599, headers(), string(), non_neg_integer()) ->
    {follow, string()} | {error, too_many_redirects | {http_status, 100..599}}.
redirect(Status, Headers, Uri, Hops) when
    Status =:= 301; Status =:= 302; Status =:= 303; Status =:= 307; Status =:= 308
->
    case proplists:get_value("location", Headers) of
        _ when Hops =:= 0 -> {error, too_many_redirects};
        undefined -> {error, {http_status, Status}};
        Location -> {follow, uri_string:resolve(Location, Uri)}
    end;
redirect(Status, _Headers, _Uri, _Hops) ->
    {error, {http_status, Status}}.

%% @doc The announced body size, `undefined' when absent or not a number.
-spec content_length(headers()) -> non_neg_integer() | undefined.
content_length(Headers) ->
    try list_to_integer(proplists:get_value("content-length", Headers)) of
        N -> N
    catch
        _:_ -> undefined
    end.

%% @doc httpc's connect errors nest the cause; keep what an operator needs.
-spec simplify(term()) -> term().
simplify({failed_connect, Details}) ->
    case [R || {inet, _, R} <- Details] of
        [R | _] -> {connect_failed, R};
        [] -> {connect_failed, Details}
    end;
simplify(Reason) ->
    Reason.

%%--------------------------------------------------------------------
%% Freshness
%%--------------------------------------------------------------------

%% @doc How long the response keeps the key set fresh, in ms:
%% {@link header_ttl/2} clamped to `[min_ttl, max_ttl]', or `undefined'
%% when the response says nothing (then the `ttl' option applies).
-spec ttl(headers(), #cache_cfg{}, calendar:datetime()) -> non_neg_integer() | undefined.
ttl(Headers, #cache_cfg{min_ttl = Min, max_ttl = Max}, UtcNow) ->
    case header_ttl(Headers, UtcNow) of
        undefined -> undefined;
        Ms -> min(Max, max(Min, Ms))
    end.

%% @doc The response's own freshness lifetime in ms, unclamped (RFC 9111
%% §4.2.1): `no-cache' or `no-store' mean 0; else `max-age' less `Age'
%% wins over `Expires' less `Date' (`UtcNow' without a usable `Date'); a
%% malformed `max-age' or `Expires' means 0; `undefined' with none of them.
-spec header_ttl(headers(), calendar:datetime()) -> non_neg_integer() | undefined.
header_ttl(Headers, UtcNow) ->
    Directives = [string:trim(D) || D <- string:lexemes(
                                             string:lowercase(
                                               proplists:get_value("cache-control", Headers, "")),
                                             ",")],
    MaxAge = [A || "max-age=" ++ A <- Directives],
    NoCache = lists:member("no-cache", Directives) orelse lists:member("no-store", Directives),
    if
        NoCache ->
            0;
        MaxAge =/= [] ->
            case string:to_integer(string:trim(hd(MaxAge), both, "\"")) of
                {Secs, ""} when Secs >= 0 -> max(0, Secs - age(Headers)) * 1000;
                _ -> 0
            end;
        true ->
            expires_ttl(Headers, UtcNow)
    end.

age(Headers) ->
    case string:to_integer(proplists:get_value("age", Headers, "0")) of
        {Age, ""} when Age >= 0 -> Age;
        _ -> 0
    end.

expires_ttl(Headers, UtcNow) ->
    case proplists:get_value("expires", Headers) of
        undefined ->
            undefined;
        Expires ->
            case http_date(Expires) of
                bad_date ->
                    0;
                ExpiresAt ->
                    Base = case http_date(proplists:get_value("date", Headers, "")) of
                        bad_date -> UtcNow;
                        D -> D
                    end,
                    1000 * max(0, calendar:datetime_to_gregorian_seconds(ExpiresAt)
                                  - calendar:datetime_to_gregorian_seconds(Base))
            end
    end.

%% httpd_util raises on some malformed dates (`Expires: 0', common in the
%% field, means "already expired": RFC 9111 §5.3) and lets impossible ones
%% through (day 32), on which calendar raises: both are bad dates here.
http_date(String) ->
    try httpd_util:convert_request_date(String) of
        {Date, _Time} = DateTime ->
            case calendar:valid_date(Date) of
                true -> DateTime;
                false -> bad_date
            end;
        bad_date ->
            bad_date
    catch
        error:_ -> bad_date
    end.

%% @doc The response's `ETag', sent back as `If-None-Match' next time.
-spec etag(headers()) -> string() | undefined.
etag(Headers) ->
    proplists:get_value("etag", Headers).

%%--------------------------------------------------------------------
%% URLs and TLS
%%--------------------------------------------------------------------

%% @doc An absolute `https' URL (or `http' with `AllowHttp'), for the
%% configured URL and each redirect alike.
-spec allowed_uri(string(), boolean()) ->
    ok | {error, {insecure_uri, binary()} | {bad_uri, binary()}}.
allowed_uri(Uri, AllowHttp) ->
    case uri_string:parse(Uri) of
        #{scheme := Scheme, host := Host} when Host =/= "" ->
            case string:lowercase(Scheme) of
                "https" -> ok;
                "http" when AllowHttp -> ok;
                _ -> {error, {insecure_uri, list_to_binary(Uri)}}
            end;
        _ ->
            {error, {bad_uri, list_to_binary(Uri)}}
    end.

%% @doc TLS options for `Uri': the peer is verified against the system CA
%% store and the host name checked (wildcards as browsers do), with SNI for
%% a name (not an IP address); the `ssl' option's entries override these
%% defaults key by key (tests pass their own `cacerts').
-spec ssl_options(string(), #cache_cfg{}) -> [ssl:tls_client_option()].
ssl_options(Uri, #cache_cfg{ssl = User}) ->
    #{host := Host0} = uri_string:parse(Uri),
    Host = string:trim(Host0, both, "[]"),
    Given = fun(K) -> proplists:is_defined(K, User) end,
    CA = case Given(cacerts) orelse Given(cacertfile) of
        true -> [];
        false -> [{cacerts, system_cacerts()}]
    end,
    SNI = case inet:parse_address(Host) of
        {ok, _} -> [];
        _ -> [{server_name_indication, Host}]
    end,
    Defaults = [{verify, verify_peer}, {depth, 4},
                {customize_hostname_check,
                 [{match_fun, public_key:pkix_verify_hostname_match_fun(https)}]}]
               ++ CA ++ SNI,
    User ++ [D || {K, _} = D <- Defaults, not Given(K)].

system_cacerts() ->
    try
        public_key:cacerts_get()
    catch
        _:_ -> []
    end.

is_https(Uri) ->
    string:prefix(string:lowercase(Uri), "https://") =/= nomatch.
