%% @private
%% The NIF loader: `-on_load', the priv lookup, and one stub per NIF.
%% Only jwks_verify calls this module.
-module(jwks_verify_nif).

-export([key_set/1, key_set_info/1, verify/4, peek_unverified/2, verify_scheduler/1,
         reasons/0]).

-on_load(init/0).

-define(NIF_NAME, "jwks_verify_nif").

init() ->
    erlang:load_nif(filename:join(priv_dir(), ?NIF_NAME), load_info()).

%% The application environment the NIF reads once, when it loads: verify_scheduler,
%% auto (the default) or dirty (README "Scheduler usage"). Before the application
%% controller runs there is no environment to read: the default holds. A wrong
%% value is logged and the default used, as failing here would leave every
%% call undefined without a word.
load_info() ->
    Mode = try application:get_env(jwks_verify, verify_scheduler, auto)
           catch error:badarg -> auto
           end,
    case lists:member(Mode, [auto, dirty]) of
        true ->
            #{verify_scheduler => Mode};
        false ->
            logger:error("jwks_verify: the application environment's verify_scheduler must be "
                         "auto or dirty, got ~0p; using auto", [Mode]),
            #{verify_scheduler => auto}
    end.

%% code:priv_dir/1 fails when the application is not in the code path as an
%% application (escripts, plain erlc builds): fall back to ebin/../priv as jiffy does.
priv_dir() ->
    case code:priv_dir(jwks_verify) of
        {error, bad_name} ->
            filename:join([filename:dirname(code:which(?MODULE)), "..", "priv"]);
        Dir ->
            Dir
    end.

-define(NOT_LOADED, erlang:nif_error({not_loaded, [{module, ?MODULE}, {line, ?LINE}]})).

key_set(_Json) -> ?NOT_LOADED.
key_set_info(_KeySet) -> ?NOT_LOADED.
verify(_Token, _KeySet, _Opts, _Mode) -> ?NOT_LOADED.
peek_unverified(_Token, _MaxTokenBytes) -> ?NOT_LOADED.
verify_scheduler(_Mode) -> ?NOT_LOADED.
reasons() -> ?NOT_LOADED.
