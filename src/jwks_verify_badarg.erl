%% @private
%% Caller mistakes, said once for every module that checks options.
%%
%% A mistake raises `{badarg, Detail}' where Detail is a map holding the
%% sentence for Erlang callers (`message') and its parts (`option', `given',
%% `expected', `did_you_mean'), so the Elixir faces can say the same sentence
%% in Elixir syntax instead of leaking Erlang tuples and charlists.
-module(jwks_verify_badarg).

-export([bad_value/3, bad_argument/3, unknown_option/2, error/1, message/2]).

-export_type([detail/0]).

-type detail() :: #{
    message := binary(),
    option => atom(),
    argument => atom(),
    given => term(),
    expected => binary(),
    did_you_mean => atom(),
    known => [atom()]
}.

%% @doc Raises: `Option' was given `Given' where `Expected' (a phrase) was wanted.
-spec bad_value(atom(), term(), iodata()) -> no_return().
bad_value(Option, Given, Expected) ->
    raise(#{option => Option, given => Given, expected => iolist_to_binary(Expected)}).

%% @doc Raises: the argument `Name' (not an option) was `Given' where `Expected' was wanted.
-spec bad_argument(atom(), term(), iodata()) -> no_return().
bad_argument(Name, Given, Expected) ->
    raise(#{argument => Name, given => Given, expected => iolist_to_binary(Expected)}).

%% @doc Raises: `Option' is not one of `Known'; names the closest when one is close.
-spec unknown_option(term(), [atom()]) -> no_return().
unknown_option(Option, Known) ->
    Base = #{option => Option, known => Known},
    raise(case closest(Option, Known) of
              undefined -> Base;
              Close -> Base#{did_you_mean => Close}
          end).

%% @doc Raises a mistake that is no single option's (`Text' is a sentence).
-spec error(iodata()) -> no_return().
error(Text) ->
    erlang:error({badarg, #{message => iolist_to_binary(Text)}}).

raise(Detail) ->
    erlang:error({badarg, Detail#{message => message(Detail, erlang)}}).

%% @doc The sentence, with terms written in Erlang syntax, or by `Format'
%% (the Elixir faces pass `inspect', and option names as `:name').
-spec message(detail() | map(), erlang | fun((term()) -> iodata())) -> binary().
message(#{option := Option, given := Given, expected := Expected}, Syntax) ->
    iolist_to_binary(["bad value for option ", name(Option, Syntax), ": expected ", Expected,
                      ", got ", term(Given, Syntax)]);
message(#{argument := Name, given := Given, expected := Expected}, Syntax) ->
    iolist_to_binary(["bad argument ", atom_to_binary(Name), ": expected ", Expected, ", got ",
                      term(Given, Syntax)]);
message(#{option := Option, known := Known} = D, Syntax) ->
    Hint = case D of
               #{did_you_mean := Close} -> [" (did you mean ", name(Close, Syntax), "?)"];
               _ -> []
           end,
    iolist_to_binary(["unknown option ", term(Option, Syntax), Hint, "; known options: ",
                      lists:join(", ", [name(K, Syntax) || K <- Known])]);
message(#{message := Text}, _Syntax) ->
    Text.

name(Atom, erlang) when is_atom(Atom) -> atom_to_binary(Atom);
name(Other, Syntax) -> term(Other, Syntax).

term(Term, erlang) -> iolist_to_binary(io_lib:format("~0tP", [Term, 12]));
term(Term, Format) -> Format(Term).

%% The known name a slip of the keyboard away (Plug and Phoenix hint the same way).
closest(Option, Known) when is_atom(Option) ->
    Given = atom_to_list(Option),
    Scored = [{distance(Given, atom_to_list(K)), K} || K <- Known],
    case lists:min(Scored) of
        {D, K} when D =< 2, D < length(Given) -> K;
        _ -> undefined
    end;
closest(_Option, _Known) ->
    undefined.

%% Levenshtein distance, one row at a time.
distance(A, B) ->
    First = lists:seq(0, length(B)),
    lists:last(lists:foldl(fun(Ca, Prev) -> row(Ca, B, Prev) end, First, A)).

row(Ca, B, [P0 | _] = Prev) ->
    row(Ca, B, Prev, [P0 + 1]).

row(_Ca, [], _Prev, Acc) ->
    lists:reverse(Acc);
row(Ca, [Cb | B], [Diag, Up | Prev], [Left | _] = Acc) ->
    Cost = if Ca =:= Cb -> 0; true -> 1 end,
    row(Ca, B, [Up | Prev], [lists:min([Left + 1, Up + 1, Diag + Cost]) | Acc]).
