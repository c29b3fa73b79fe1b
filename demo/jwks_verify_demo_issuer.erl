%% @doc The identity provider of the demo, shared with the tests: an httpd
%% module serving a JWKS document at `/.well-known/jwks.json' that its
%% starter can replace (a key rotation), counting the requests it gets.
-module(jwks_verify_demo_issuer).

%% The issuer on loopback
-export([start/1, publish/2, hits/1, stop/1]).
%% httpd module callback
-export([do/1]).

-export_type([issuer/0]).

-include_lib("inets/include/httpd.hrl").

-define(PATH, "/.well-known/jwks.json").

-type issuer() :: #{httpd := pid(), port := inet:port_number(), base := string(),
                    jwks_uri := binary(), table := ets:tid()}.

%%--------------------------------------------------------------------
%% The issuer on loopback
%%--------------------------------------------------------------------

%% @doc Starts an issuer serving `Jwks' (a JSON document) on an ephemeral
%% port of 127.0.0.1. Its state lives in an ETS table the caller owns.
-spec start(binary()) -> issuer().
start(Jwks) ->
    Table = ets:new(?MODULE, [public, {read_concurrency, true}]),
    true = ets:insert(Table, [{jwks, Jwks}, {hits, 0}]),
    #{base := Base} = Server =
        jwks_verify_demo_api:start_httpd([?MODULE], [{?MODULE, Table}]),
    Server#{jwks_uri => list_to_binary(Base ++ ?PATH), table => Table}.

%% @doc Serves `Jwks' from now on.
-spec publish(issuer(), binary()) -> ok.
publish(#{table := Table}, Jwks) ->
    true = ets:insert(Table, {jwks, Jwks}),
    ok.

%% @doc How many JWKS requests the issuer has answered.
-spec hits(issuer()) -> non_neg_integer().
hits(#{table := Table}) ->
    ets:lookup_element(Table, hits, 2).

-spec stop(issuer()) -> ok.
stop(#{httpd := Httpd, table := Table}) ->
    ok = inets:stop(httpd, Httpd),
    true = ets:delete(Table),
    ok.

%%--------------------------------------------------------------------
%% httpd module callback
%%--------------------------------------------------------------------

%% @doc Answers `GET /.well-known/jwks.json' with the current document.
-spec do(#mod{}) -> {proceed, list()}.
do(#mod{config_db = Db, request_uri = ?PATH}) ->
    Table = httpd_util:lookup(Db, ?MODULE),
    ets:update_counter(Table, hits, 1),
    jwks_verify_demo_api:reply(200, ets:lookup_element(Table, jwks, 2));
do(#mod{}) ->
    jwks_verify_demo_api:reply(404, <<"{\"error\":\"not found\"}">>).
