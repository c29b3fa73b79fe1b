%% @doc A bearer-JWT guard for OTP's web server, `httpd'.
%%
%% The same guard as `JwksVerify.Plug', for services without Plug: an httpd
%% module (`do/1') that lets a request through when it carries a valid bearer
%% token, and answers it with the same 401/400/503 JSON response otherwise.
%% Every decision is made by `JwksVerify.Plug.Core', the function the Plug
%% calls; this module only moves values between it and httpd.
%%
%% Put it first in `modules' and give it its options under the `jwks_verify'
%% property (they are validated when httpd starts; a bad option fails the
%% start):
%% ```
%% {ok, _} = jwks_verify_cache:start_link(my_jwks,
%%     #{jwks_uri => <<"https://issuer.example/.well-known/jwks.json">>}),
%% {ok, _} = inets:start(httpd, [
%%     {port, 8080}, {server_name, "api"}, {server_root, "/tmp"},
%%     {document_root, "/tmp"},
%%     {modules, [jwks_verify_httpd, my_api]},
%%     {jwks_verify, [{cache, my_jwks},
%%                    {iss, <<"https://issuer.example/">>},
%%                    {aud, <<"my-api">>},
%%                    {public_paths, [<<"/public">>]}]}]).
%% '''
%% The options are those of `JwksVerify.Plug' (`cache', `iss', `aud', `algs',
%% `leeway', `required', `typ', `public_paths', `skip', `unavailable_status',
%% `realm', ...) plus `key_set' (a key set from {@link jwks_verify:key_set/1}).
%% Without a `jwks_verify' property the options come from the application
%% environment: `{jwks_verify, [{httpd, Options}]}'.
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
-module(jwks_verify_httpd).

%% httpd module callbacks
-export([do/1, store/2]).
%% For the modules that follow
-export([claims/1]).

-include_lib("inets/include/httpd.hrl").

-define(CORE, 'Elixir.JwksVerify.Plug.Core').

%%--------------------------------------------------------------------
%% httpd module callbacks
%%--------------------------------------------------------------------

%% @doc The httpd callback: passes a request with a valid token on, with its
%% claims in the data, and answers the others.
-spec do(#mod{}) -> {proceed, list()} | {break, list()} | term().
do(#mod{data = Data} = Info) ->
    case answered(Data) of
        true -> {proceed, Data};
        false -> guard(Info)
    end.

%% @doc Validates the `jwks_verify' property once, when httpd starts.
-spec store({jwks_verify, list() | map()}, list()) ->
    {ok, {jwks_verify, map()}} | {error, term()}.
store({jwks_verify, Opts}, _ConfigList) ->
    try
        {ok, {jwks_verify, ?CORE:init(Opts)}}
    catch
        error:#{'__exception__' := true, message := Message} ->
            {error, {jwks_verify, Message}}
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
    case ?CORE:check(Config, authorization(Headers), path(Uri)) of
        {ok, Claims} -> {proceed, [{jwks_verify_claims, Claims} | Data]};
        skip -> {proceed, Data};
        {error, Reason} -> refuse(Info, Reason, Config)
    end.

refuse(Info, Reason, Config) ->
    {error, Status, Headers, Body} = ?CORE:response(Config, Reason),
    case maps:get(on_error, Config) of
        {M, F} ->
            M:F(Info, #{reason => Reason, status => Status, headers => Headers, body => Body});
        nil ->
            Head = [{code, Status}, {content_length, integer_to_list(byte_size(Body))}
                    | [{binary_to_list(N), binary_to_list(V)} || {N, V} <- Headers]],
            {break, [{response, {response, Head, [Body]}}]}
    end.

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
                    Config = ?CORE:init(Opts),
                    persistent_term:put(Key, Config),
                    Config;
                Config ->
                    Config
            end;
        undefined ->
            erlang:error({badarg, "jwks_verify_httpd needs a jwks_verify property in the "
                                  "httpd config or {jwks_verify, [{httpd, Options}]} in the "
                                  "application environment"})
    end.

%% httpd gives lowercase names and one entry per header line; the core only
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
