%% @doc The protected API of the demo, shared with the tests: an httpd module
%% placed after `jwks_verify_httpd', so it only sees the requests the guard
%% let through, and reads the claims the guard passed on.
%%
%% Routes: `/public' answers `{"message":"Public content"}'; `/api/protected'
%% answers `{"message":"Access granted","user":Claims}'; anything else 404.
%% {@link start/1} runs it on 127.0.0.1 behind the guard, as a service would:
%% ```
%% {modules, [jwks_verify_httpd, jwks_verify_demo_api]},
%% {jwks_verify, [{cache, Name}, {iss, Iss}, {aud, Aud}, {public_paths, [<<"/public">>]}]}
%% '''
-module(jwks_verify_demo_api).

%% The API on loopback
-export([start/1, stop/1]).
%% httpd module callback
-export([do/1]).
%% For the demo's other server
-export([start_httpd/2, reply/2]).

-export_type([server/0]).

-include_lib("inets/include/httpd.hrl").

-type server() :: #{httpd := pid(), port := inet:port_number(), base := string()}.

%%--------------------------------------------------------------------
%% The API on loopback
%%--------------------------------------------------------------------

%% @doc Starts the API behind `jwks_verify_httpd' with the guard's options
%% (the `jwks_verify' httpd property) on an ephemeral port of 127.0.0.1.
-spec start(list() | map()) -> server().
start(GuardOpts) ->
    start_httpd([jwks_verify_httpd, ?MODULE], [{jwks_verify, GuardOpts}]).

-spec stop(server()) -> ok.
stop(#{httpd := Httpd}) ->
    inets:stop(httpd, Httpd).

%%--------------------------------------------------------------------
%% httpd module callback
%%--------------------------------------------------------------------

%% @doc Answers the requests `jwks_verify_httpd' let through.
-spec do(#mod{}) -> {proceed, list()}.
do(#mod{data = Data, request_uri = Uri} = Mod) ->
    case proplists:is_defined(response, Data) of
        true -> {proceed, Data};
        false -> route(lists:takewhile(fun(C) -> C =/= $? end, Uri), Mod)
    end.

route("/public", _Mod) ->
    reply(200, <<"{\"message\":\"Public content\"}">>);
route("/api/protected", Mod) ->
    Claims = jwks_verify_httpd:claims(Mod),
    reply(200, [<<"{\"message\":\"Access granted\",\"user\":">>, json(Claims), $}]);
route(_, _Mod) ->
    reply(404, <<"{\"error\":\"not found\"}">>).

%%--------------------------------------------------------------------
%% For the demo's other server
%%--------------------------------------------------------------------

%% @doc Starts OTP's httpd on an ephemeral port of 127.0.0.1 with `Modules'
%% and extra properties.
-spec start_httpd([module()], list()) -> server().
start_httpd(Modules, Props) ->
    {ok, _} = application:ensure_all_started(inets),
    Root = os:getenv("TMPDIR", "/tmp"),
    {ok, Httpd} = inets:start(httpd, [
        {port, 0}, {bind_address, {127, 0, 0, 1}},
        %% httpd writes head and body apart: without nodelay, Nagle and
        %% delayed ACKs add 40 ms to every response on a kept-alive connection.
        {socket_type, {ip_comm, [{nodelay, true}]}},
        {server_name, "jwks-verify-demo"}, {server_root, Root}, {document_root, Root},
        {modules, Modules} | Props]),
    [{port, Port}] = httpd:info(Httpd, [port]),
    #{httpd => Httpd, port => Port, base => "http://127.0.0.1:" ++ integer_to_list(Port)}.

%% @doc An httpd answer: `Status' with a JSON body.
-spec reply(pos_integer(), iodata()) -> {proceed, list()}.
reply(Status, Body) ->
    Bin = iolist_to_binary(Body),
    Head = [{code, Status}, {content_type, "application/json"},
            {content_length, integer_to_list(byte_size(Bin))}],
    {proceed, [{response, {response, Head, [Bin]}}]}.

%%--------------------------------------------------------------------
%% Internal
%%--------------------------------------------------------------------

%% The claims back as JSON, members sorted: what jwks_verify returns is
%% maps with binary keys, lists, binaries, numbers and true/false/null. (A
%% real service uses its JSON library.)
json(M) when is_map(M) ->
    [${, lists:join($,, [[json(K), $:, json(V)] || {K, V} <- lists:sort(maps:to_list(M))]), $}];
json(L) when is_list(L) -> [$[, lists:join($,, [json(V) || V <- L]), $]];
json(B) when is_binary(B) -> [$", [escape(C) || <<C>> <= B], $"];
json(I) when is_integer(I) -> integer_to_binary(I);
json(F) when is_float(F) -> float_to_binary(F, [short]);
json(A) when A =:= true; A =:= false; A =:= null -> atom_to_binary(A);
json(undefined) -> <<"null">>.

escape($") -> <<"\\\"">>;
escape($\\) -> <<"\\\\">>;
escape(C) when C < 16#20 -> io_lib:format("\\u~4.16.0b", [C]);
escape(C) -> C.
