%% @doc A bearer-JWT guard for OTP's web server, `httpd'.
%%
%% The same guard as `JwksVerify.Plug', for services without Plug: an httpd
%% module (`do/1') that lets a request through when it carries a valid bearer
%% token, and answers it with the same 400/401/403/503 JSON response otherwise.
%% Every decision is made by {@link jwks_verify_guard}, the pure function the
%% Plug calls too; this module only moves values between it and httpd, and
%% needs no Elixir.
%%
%% Put it first in `modules' and give it its options under the `jwks_verify'
%% property. {@link store/2} checks them with {@link jwks_verify_guard:init/1}
%% when httpd starts, so a bad option fails `inets:start(httpd, ...)' with
%% `{error, {jwks_verify, Description}}':
%% ```
%% {ok, _} = jwks_verify_cache:start_link(my_jwks,
%%     #{jwks_uri => <<"https://issuer.example/.well-known/jwks.json">>}),
%% {ok, Httpd} = inets:start(httpd, [
%%     {port, 8080}, {bind_address, {127, 0, 0, 1}},
%%     {server_name, "api"}, {server_root, "/tmp"}, {document_root, "/tmp"},
%%     {modules, [jwks_verify_httpd, my_api]},
%%     {jwks_verify, [{cache, my_jwks},
%%                    {iss, <<"https://issuer.example/">>},
%%                    {aud, <<"my-api">>},
%%                    {public_paths, [<<"/public">>]}]}]).
%% '''
%% The options are those of {@link jwks_verify_guard:init/1}: `cache' or
%% `key_set', `iss', `aud', `algs', `leeway', `required', `typ',
%% `max_token_bytes', `scopes', `public_paths', `skip', `on_error',
%% `unavailable_status', `realm'. Without a `jwks_verify' property they come
%% from the application environment, `{jwks_verify, [{httpd, Options}]}',
%% checked at the first request.
%%
%% On success the claims are added to the data the next modules get:
%% `jwks_verify_httpd:claims(ModData)', or
%% `proplists:get_value(jwks_verify_claims, ModData#mod.data)'. A refused
%% request ends the module chain (`{break, ...}'), so no later module can
%% serve it by mistake; modules placed after this one (`mod_log' too) do not
%% see refused requests.
%%
%% `on_error', when set to `{Module, Function}', is called as
%% `Module:Function(ModData, #{reason, status, headers, body})' and its result
%% is returned from `do/1'.
%%
%% Should the guard itself fail (a `skip' function that crashes, no options
%% at all), the request is answered `500', fail closed, and the failure is
%% logged with `logger', without the request's headers.
-module(jwks_verify_httpd).

%% httpd module callbacks
-export([do/1, store/2]).
%% For the modules that follow
-export([claims/1]).

-include_lib("inets/include/httpd.hrl").
-include_lib("kernel/include/logger.hrl").

%%--------------------------------------------------------------------
%% httpd module callbacks
%%--------------------------------------------------------------------

%% @doc The httpd callback: passes a request with a valid token on, with its
%% claims in the data, and answers the others.
-spec do(#mod{}) -> {proceed, list()} | {break, list()} | term().
do(#mod{data = Data} = Info) ->
    case answered(Data) of
        true ->
            {proceed, Data};
        false ->
            try
                guard(Info)
            catch
                Class:Reason:Stack -> failed(Class, Reason, Stack)
            end
    end.

%% @doc Checks the `jwks_verify' property once, when httpd starts, with
%% {@link jwks_verify_guard:init/1}: a bad option makes the start fail with
%% `{error, {jwks_verify, Description}}'.
-spec store({jwks_verify, list() | map()}, list()) ->
    {ok, {jwks_verify, jwks_verify_guard:config()}} | {error, {jwks_verify, binary()}}.
store({jwks_verify, Opts}, _ConfigList) ->
    try
        {ok, {jwks_verify, jwks_verify_guard:init(Opts)}}
    catch
        error:{badarg, #{message := Message}} -> {error, {jwks_verify, Message}}
    end.

%%--------------------------------------------------------------------
%% For the modules that follow
%%--------------------------------------------------------------------

%% @doc The verified claims of the request, or `undefined' (a public path).
-spec claims(#mod{}) -> jwks_verify:claims() | undefined.
claims(#mod{data = Data}) ->
    proplists:get_value(jwks_verify_claims, Data).

%%--------------------------------------------------------------------
%% Internal
%%--------------------------------------------------------------------

guard(#mod{config_db = Db, parsed_header = Headers, request_uri = Uri, data = Data} = Info) ->
    Config = config(Db),
    case jwks_verify_guard:decide(Config, authorization(Headers), path(Uri)) of
        {ok, Claims} -> {proceed, [{jwks_verify_claims, Claims} | Data]};
        skip -> {proceed, Data};
        {error, Reason, Response} -> refuse(Info, Reason, Response, Config)
    end.

refuse(Info, Reason, {Status, Headers, Body}, #{on_error := OnError}) ->
    case OnError of
        {M, F} ->
            M:F(Info, #{reason => Reason, status => Status, headers => Headers, body => Body});
        undefined ->
            Head = [{code, Status}, {content_length, integer_to_list(byte_size(Body))}
                    | [{binary_to_list(N), binary_to_list(V)} || {N, V} <- Headers]],
            {break, [{response, {response, Head, [Body]}}]}
    end.

%% httpd answers a crash with a bare 500 and logs it only to a configured
%% error log: log it here, arguments dropped from the stack (they may hold
%% the token), and end the chain with a 500.
failed(Class, Reason, Stack) ->
    ?LOG_ERROR(#{what => "jwks_verify_httpd could not decide a request",
                 class => Class, reason => Reason,
                 stacktrace => [{M, F, arity(A), L} || {M, F, A, L} <- Stack]}),
    {break, [{status, {500, none, "jwks_verify_httpd failed"}}]}.

arity(Args) when is_list(Args) -> length(Args);
arity(Arity) -> Arity.

%% An earlier module (mod_auth, mod_alias errors, ...) has already answered.
answered(Data) ->
    proplists:is_defined(response, Data) orelse proplists:is_defined(status, Data).

config(Db) ->
    case httpd_util:lookup(Db, jwks_verify) of
        undefined -> app_env_config();
        Config -> Config
    end.

%% Prepared once per distinct environment value, then read from persistent_term.
app_env_config() ->
    case application:get_env(jwks_verify, httpd) of
        {ok, Opts} ->
            Key = {?MODULE, Opts},
            case persistent_term:get(Key, undefined) of
                undefined ->
                    Config = jwks_verify_guard:init(Opts),
                    persistent_term:put(Key, Config),
                    Config;
                Config ->
                    Config
            end;
        undefined ->
            erlang:error({badarg, <<"jwks_verify_httpd needs a jwks_verify property in the "
                                    "httpd config or {jwks_verify, [{httpd, Options}]} in the "
                                    "application environment">>})
    end.

%% httpd gives lowercase names and one entry per header line; the guard only
%% reads `authorization', and must see every copy of it.
authorization(Headers) ->
    [{<<"authorization">>, list_to_binary(V)} || {"authorization", V} <- Headers].

%% The path of the request target, without query or fragment (absolute-form
%% targets lose their scheme and authority).
path("http://" ++ Rest) -> path(drop_authority(Rest));
path("https://" ++ Rest) -> path(drop_authority(Rest));
path(Uri) -> list_to_binary(lists:takewhile(fun(C) -> C =/= $? andalso C =/= $# end, Uri)).

drop_authority(Rest) ->
    case lists:dropwhile(fun(C) -> C =/= $/ end, Rest) of
        "" -> "/";
        Path -> Path
    end.
