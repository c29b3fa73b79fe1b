%% @private
%% @doc The cache's HTTP fetch: one conditional GET of the JWKS over a small
%% HTTP/1.1 client on `gen_tcp'/`ssl' (TLS peer and host name verified, size
%% and time limits held while reading every response, redirects followed by
%% hand), and the key set's freshness from the response (RFC 9111). {@link fetch/2} runs in a short-lived
%% worker process; the rest are pure functions of the options and the
%% response, so they are tested without a server.
-module(jwks_verify_cache_http).

%% Fetching
-export([ensure_started/0, fetch/2, get/2]).
%% Requests and responses (pure)
-export([request_headers/1, redirect/4, content_length/1]).
%% Freshness (pure)
-export([ttl/3, header_ttl/2, etag/1]).
%% URLs and TLS (pure)
-export([allowed_uri/2, ssl_options/2]).

-export_type([fetched/0, headers/0]).

-include("jwks_verify_cache.hrl").

-define(USER_AGENT, "jwks_verify").
%% The longest status line, header line or chunk-size line read.
-define(MAX_LINE, 8192).
-define(MAX_HEADERS, 100).

%% httpc's response headers: names in lower case.
-type headers() :: [{string(), string()}].
%% What a fetch brings: a usable key set (200), a confirmation (304), or why not.
-type fetched() ::
    {ok, #{status := 200, key_set := jwks_verify:key_set(), info := map(), body := binary(),
           hash := binary(),
           bytes := non_neg_integer(), ttl := non_neg_integer() | undefined,
           etag := string() | undefined}}
    | {not_modified, #{status := 304, ttl := non_neg_integer() | undefined,
                       etag := string() | undefined}}
    | {error, term()}.

%%--------------------------------------------------------------------
%% Fetching
%%--------------------------------------------------------------------

%% @doc Starts `ssl' (for `https' URLs).
-spec ensure_started() -> ok.
ensure_started() ->
    {ok, _} = application:ensure_all_started(ssl),
    ok.

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

%%--------------------------------------------------------------------
%% The HTTP/1.1 client
%%--------------------------------------------------------------------

%% One GET on its own connection (`Connection: close'), over gen_tcp or ssl
%% (TLS options from ssl_options/2). The status line and headers are read
%% with `{packet, http_bin}' (lines of at most ?MAX_LINE bytes, at most
%% ?MAX_HEADERS headers). Only a 200's body is read, counted against
%% `max_body_bytes' as it arrives (Content-Length, chunked, or up to the
%% close); any other status is answered from its headers and the connection
%% closed unread, so an error page or a redirect costs no memory whatever
%% its size. (httpc reads every non-200 body whole.)
request(Uri, Headers, Cfg, Deadline) ->
    #{scheme := Scheme0, host := Host0} = Parsed = uri_string:parse(Uri),
    Scheme = string:lowercase(Scheme0),
    Tls = Scheme =:= "https",
    Host = string:trim(Host0, both, "[]"),
    Port = case Parsed of
        #{port := P} when is_integer(P) -> P;
        _ when Tls -> 443;
        _ -> 80
    end,
    Transport = case Tls of
        true -> ssl;
        false -> gen_tcp
    end,
    SockOpts = [binary, {active, false}, {packet, http_bin}, {packet_size, ?MAX_LINE}]
               ++ [inet6 || is_ipv6(Host)]
               ++ [O || Tls, O <- ssl_options(Uri, Cfg)],
    ConnectTimeout = min(Cfg#cache_cfg.connect_timeout, left(Deadline)),
    case connect(Transport, Host, Port, SockOpts, ConnectTimeout) of
        {ok, Sock} ->
            try
                exchange(Transport, Sock, request_bytes(Parsed, Host0, Port, Tls, Headers),
                         Deadline, Cfg#cache_cfg.max_body_bytes)
            after
                _ = Transport:close(Sock)
            end;
        {error, Reason} ->
            {error, {connect_failed, Reason}}
    end.

connect(_Transport, _Host, _Port, _Opts, Timeout) when Timeout =< 0 ->
    {error, timeout};
connect(Transport, Host, Port, Opts, Timeout) ->
    Transport:connect(Host, Port, Opts, Timeout).

is_ipv6(Host) ->
    case inet:parse_ipv6strict_address(Host) of
        {ok, _} -> true;
        _ -> false
    end.

request_bytes(Parsed, Host, Port, Tls, Headers) ->
    Path = case maps:get(path, Parsed, "") of
        "" -> "/";
        P -> P
    end,
    Query = case Parsed of
        #{query := Q} -> ["?", Q];
        _ -> []
    end,
    Authority = case {Tls, Port} of
        {true, 443} -> bracket(Host);
        {false, 80} -> bracket(Host);
        _ -> [bracket(Host), $:, integer_to_list(Port)]
    end,
    ["GET ", Path, Query, " HTTP/1.1\r\nhost: ", Authority, "\r\n",
     [[K, ": ", V, "\r\n"] || {K, V} <- Headers],
     "connection: close\r\n\r\n"].

bracket(Host) ->
    case is_ipv6(Host) of
        true -> [$[, Host, $]];
        false -> Host
    end.

exchange(T, Sock, Request, Deadline, Max) ->
    case T:send(Sock, Request) of
        ok ->
            case recv(T, Sock, 0, Deadline) of
                {ok, {http_response, _Version, Status, _Reason}} ->
                    case headers(T, Sock, [], Deadline) of
                        {ok, Headers} when Status =:= 200 ->
                            case body(T, Sock, Headers, Deadline, Max) of
                                {ok, Body} -> {ok, 200, Headers, Body};
                                {error, _} = Error -> Error
                            end;
                        {ok, Headers} ->
                            {ok, Status, Headers, <<>>};
                        {error, _} = Error ->
                            Error
                    end;
                {ok, _Other} ->
                    {error, bad_response};
                {error, _} = Error ->
                    Error
            end;
        {error, Reason} ->
            {error, transport_error(Reason)}
    end.

%% Header names come lower case and values as strings, as httpc gave them
%% (the pure functions below read them so).
headers(_T, _Sock, Acc, _Deadline) when length(Acc) >= ?MAX_HEADERS ->
    {error, bad_response};
headers(T, Sock, Acc, Deadline) ->
    case recv(T, Sock, 0, Deadline) of
        {ok, {http_header, _, Name, _, Value}} ->
            headers(T, Sock, [{header_name(Name), binary_to_list(Value)} | Acc], Deadline);
        {ok, http_eoh} ->
            {ok, lists:reverse(Acc)};
        {ok, _Other} ->
            {error, bad_response};
        {error, _} = Error ->
            Error
    end.

header_name(Name) when is_atom(Name) -> string:lowercase(atom_to_list(Name));
header_name(Name) -> string:lowercase(binary_to_list(Name)).

body(T, Sock, Headers, Deadline, Max) ->
    ok = setopts(T, Sock, [{packet, raw}]),
    Chunked = string:lowercase(proplists:get_value("transfer-encoding", Headers, ""))
              =:= "chunked",
    case {Chunked, content_length(Headers)} of
        {true, _} -> chunked(T, Sock, <<>>, [], 0, Deadline, Max);
        {false, N} when is_integer(N), N > Max -> {error, {body_too_large, Max}};
        {false, N} when is_integer(N) -> sized(T, Sock, N, [], 0, Deadline);
        {false, undefined} -> to_close(T, Sock, [], 0, Deadline, Max)
    end.

setopts(gen_tcp, Sock, Opts) -> inet:setopts(Sock, Opts);
setopts(ssl, Sock, Opts) -> ssl:setopts(Sock, Opts).

%% Exactly `Left' more bytes (Content-Length, already checked against the limit).
sized(_T, _Sock, Left, Acc, _Size, _Deadline) when Left =< 0 ->
    {ok, iolist_to_binary(Acc)};
sized(T, Sock, Left, Acc, Size, Deadline) ->
    case recv(T, Sock, 0, Deadline) of
        {ok, Part} when byte_size(Part) >= Left ->
            {ok, iolist_to_binary([Acc, binary_part(Part, 0, Left)])};
        {ok, Part} ->
            sized(T, Sock, Left - byte_size(Part), [Acc, Part], Size + byte_size(Part), Deadline);
        {error, _} = Error ->
            Error
    end.

%% No length and not chunked: the body ends with the connection.
to_close(T, Sock, Acc, Size, Deadline, Max) ->
    case recv(T, Sock, 0, Deadline) of
        {ok, Part} when Size + byte_size(Part) > Max -> {error, {body_too_large, Max}};
        {ok, Part} -> to_close(T, Sock, [Acc, Part], Size + byte_size(Part), Deadline, Max);
        {error, socket_closed_remotely} -> {ok, iolist_to_binary(Acc)};
        {error, _} = Error -> Error
    end.

%% RFC 9112 §7.1: size in hex (extensions after `;' ignored), CRLF, data,
%% CRLF; a 0 size ends it (trailers are not read: the connection closes).
%% `Buf' holds what was read and not yet parsed, never more than a line or
%% a chunk within the limit.
chunked(T, Sock, Buf, Acc, Size, Deadline, Max) ->
    case binary:match(Buf, <<"\r\n">>) of
        nomatch when byte_size(Buf) > ?MAX_LINE ->
            {error, bad_chunk};
        nomatch ->
            more(T, Sock, Buf, Deadline,
                 fun(B) -> chunked(T, Sock, B, Acc, Size, Deadline, Max) end);
        {Pos, 2} ->
            <<Line:Pos/binary, "\r\n", Rest/binary>> = Buf,
            case chunk_size(Line) of
                error -> {error, bad_chunk};
                0 -> {ok, iolist_to_binary(Acc)};
                N when Size + N > Max -> {error, {body_too_large, Max}};
                N -> chunk_data(T, Sock, Rest, N, Acc, Size, Deadline, Max)
            end
    end.

chunk_data(T, Sock, Buf, N, Acc, Size, Deadline, Max) when byte_size(Buf) >= N + 2 ->
    case Buf of
        <<Data:N/binary, "\r\n", Rest/binary>> ->
            chunked(T, Sock, Rest, [Acc, Data], Size + N, Deadline, Max);
        _ ->
            {error, bad_chunk}
    end;
chunk_data(T, Sock, Buf, N, Acc, Size, Deadline, Max) ->
    more(T, Sock, Buf, Deadline,
         fun(B) -> chunk_data(T, Sock, B, N, Acc, Size, Deadline, Max) end).

more(T, Sock, Buf, Deadline, Next) ->
    case recv(T, Sock, 0, Deadline) of
        {ok, Part} -> Next(<<Buf/binary, Part/binary>>);
        {error, _} = Error -> Error
    end.

chunk_size(Line) ->
    [Hex | _] = binary:split(Line, <<";">>),
    try binary_to_integer(string:trim(Hex), 16) of
        N when N >= 0 -> N;
        _ -> error
    catch
        error:badarg -> error
    end.

recv(T, Sock, Len, Deadline) ->
    case left(Deadline) of
        Left when Left =< 0 ->
            {error, timeout};
        Left ->
            case T:recv(Sock, Len, Left) of
                {ok, _} = Ok -> Ok;
                {error, Reason} -> {error, transport_error(Reason)}
            end
    end.

left(Deadline) ->
    Deadline - ?NOW_MS().

%% The names httpc gave these.
transport_error(closed) -> socket_closed_remotely;
transport_error(Reason) -> Reason.

parse(Body, Headers, Cfg) ->
    case jwks_verify:key_set(Body) of
        {ok, KeySet} ->
            case jwks_verify:key_set_info(KeySet) of
                #{usable := 0} ->
                    {error, no_usable_keys};
                Info ->
                    {ok, #{status => 200, key_set => KeySet, info => Info, body => Body,
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
