%% @private
%% @doc The cache process's side of the ETS layout in `jwks_verify_cache.hrl':
%% it creates the tables and writes every row that
%% `jwks_verify_cache_reader' reads, and keeps the negative kids as a map
%% beside their rows, so that the process can answer and sweep them without
%% reading its own table.
-module(jwks_verify_cache_table).

%% Tables
-export([new/2]).
%% Rows
-export([put_key_set/2, put_gate/2, put_issuer/2]).
%% Negative kids
-export([is_negative/3, add_negative/4, clear_negatives/1, sweep_negatives/3]).
%% Token cache
-export([remember/5, clear_tokens/1, sweep_tokens/3]).

-export_type([negatives/0]).

-include("jwks_verify_opts.hrl").
-include("jwks_verify_cache.hrl").

%% Past this many negative kids, the lot is forgotten rather than grow.
-define(MAX_NEGATIVE, 10000).

-type negatives() :: #{binary() => integer()}.

%%--------------------------------------------------------------------
%% Tables
%%--------------------------------------------------------------------

%% @doc Creates the cache's named table and, when `TokenMax' is not 0, the
%% token cache's table. Raises `badarg' when the name is taken.
-spec new(atom(), non_neg_integer()) -> {atom(), jwks_verify_token_cache()}.
new(Name, TokenMax) ->
    Tab = ets:new(Name, [named_table, protected, set, {read_concurrency, true}]),
    Tokens = case TokenMax of
        0 -> undefined;
        _ -> {ets:new(jwks_verify_tokens, [set, protected, {read_concurrency, true}]), TokenMax}
    end,
    {Tab, Tokens}.

%%--------------------------------------------------------------------
%% Rows
%%--------------------------------------------------------------------

%% @doc Writes (replaces) the key set row.
-spec put_key_set(atom(), #key_set{}) -> true.
put_key_set(Tab, #key_set{} = Row) ->
    ets:insert(Tab, Row).

%% @doc Writes (replaces) the kid gate row.
-spec put_gate(atom(), #kid_gate{}) -> true.
put_gate(Tab, #kid_gate{} = Row) ->
    ets:insert(Tab, Row).

%% @doc Writes the issuer row, when the cache knows its issuer.
-spec put_issuer(atom(), binary() | undefined) -> true.
put_issuer(_Tab, undefined) ->
    true;
put_issuer(Tab, Issuer) ->
    ets:insert(Tab, ?ISSUER(Issuer)).

%%--------------------------------------------------------------------
%% Negative kids
%%--------------------------------------------------------------------

%% @doc Whether `Kid' is known absent at `Now'.
-spec is_negative(binary(), integer(), negatives()) -> boolean().
is_negative(Kid, Now, Negatives) ->
    case Negatives of
        #{Kid := Until} -> Now < Until;
        _ -> false
    end.

%% @doc Remembers `Kid' as absent until `Until'; past ?MAX_NEGATIVE kids,
%% forgets the others first.
-spec add_negative(atom(), binary(), integer(), negatives()) -> negatives().
add_negative(Tab, Kid, Until, Negatives0) ->
    Negatives = case map_size(Negatives0) >= ?MAX_NEGATIVE of
        true -> clear_negatives(Tab);
        false -> Negatives0
    end,
    ets:insert(Tab, ?NEGATIVE(Kid, Until)),
    Negatives#{Kid => Until}.

%% @doc Forgets every negative kid.
-spec clear_negatives(atom()) -> negatives().
clear_negatives(Tab) ->
    ets:match_delete(Tab, ?NEGATIVE('_', '_')),
    #{}.

%% @doc Drops the negative kids whose time is up at `Now'.
-spec sweep_negatives(atom(), integer(), negatives()) -> negatives().
sweep_negatives(Tab, Now, Negatives) ->
    Expired = maps:keys(maps:filter(fun(_, Until) -> Until =< Now end, Negatives)),
    [ets:delete(Tab, ?NEGATIVE_KEY(K)) || K <- Expired],
    maps:without(Expired, Negatives).

%%--------------------------------------------------------------------
%% Token cache
%%--------------------------------------------------------------------

%% @doc Remembers the claims of `Token', verified under `Opts' with the key
%% set of generation `Gen' (by the caller of this function: the table's
%% owner). Tokens without `exp' are not cached: nothing would bound the
%% entry's life. A full table is emptied first.
-spec remember(jwks_verify_token_cache(), binary(), jwks_verify:prepared_opts(),
               non_neg_integer(), jwks_verify:claims()) -> ok.
remember({Tid, Max}, Token, #jwks_verify_opts{leeway = Leeway} = Opts, Gen, Claims) ->
    case {maps:get(<<"exp">>, Claims, none), time_claim(<<"nbf">>, Claims),
          time_claim(<<"iat">>, Claims)} of
        {Exp, Nbf, Iat} when is_integer(Exp), is_integer(Nbf), is_integer(Iat) ->
            _ = ets:info(Tid, size) >= Max andalso ets:delete_all_objects(Tid),
            Hash = crypto:hash(sha256, Token),
            Match = Opts#jwks_verify_opts{now = undefined},
            true = ets:insert(Tid, ?TOKEN(Hash, Match, Gen, Exp, Nbf, Iat, Exp + Leeway, Claims)),
            ok;
        _ ->
            ok
    end.

time_claim(Name, Claims) ->
    case maps:get(Name, Claims, none) of
        none -> ?NO_TIME;
        Value -> Value
    end.

%% @doc Empties the token cache (the key set changed or went unusable).
-spec clear_tokens(jwks_verify_token_cache()) -> true.
clear_tokens(undefined) -> true;
clear_tokens({Tid, _}) -> ets:delete_all_objects(Tid).

%% @doc Drops tokens of another key set generation than `Gen' and tokens
%% past their exp (plus leeway) at `NowSec' (system time, seconds).
-spec sweep_tokens(jwks_verify_token_cache(), non_neg_integer(), integer()) -> ok.
sweep_tokens(undefined, _Gen, _NowSec) ->
    ok;
sweep_tokens({Tid, _}, Gen, NowSec) ->
    _ = ets:select_delete(Tid, [{?TOKEN('_', '_', '$1', '_', '_', '_', '$2', '_'),
                                 [{'orelse', {'=/=', '$1', Gen}, {'<', '$2', NowSec}}],
                                 [true]}]),
    ok.
