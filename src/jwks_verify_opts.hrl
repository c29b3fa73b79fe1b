%% The prepared options of jwks_verify:options/1, as the NIF reads them
%% (nif.c get_opts/3: the field order is part of that contract).
-record(jwks_verify_opts, {
    algs = 1 :: non_neg_integer(),
    iss = [] :: [binary()],
    aud = [] :: [binary()] | any,
    leeway = 0 :: non_neg_integer(),
    now = undefined :: integer() | undefined,
    required = [<<"exp">>] :: [binary()],
    typ = undefined :: binary() | undefined,
    max_token_bytes = 32768 :: pos_integer()
}).
