%% @private
%% The NIF loader: `-on_load', the priv lookup, and one stub per NIF.
%% Only jwks_verify calls this module.
-module(jwks_verify_nif).

-export([key_set/1, key_set_info/1, verify/4, peek_unverified/2, reasons/0]).

-on_load(init/0).

-define(NIF_NAME, "jwks_verify_nif").

init() ->
    erlang:load_nif(filename:join(priv_dir(), ?NIF_NAME), 0).

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
reasons() -> ?NOT_LOADED.
