%% The cache's shared layout: the checked options, and the ETS rows the cache
%% process writes (jwks_verify_cache_table) and callers read
%% (jwks_verify_cache_reader). Changing a row changes both sides.

%% Times in rows are this clock (monotonic: a clock step moves no deadline).
-define(NOW_MS(), erlang:monotonic_time(millisecond)).

%% The options of jwks_verify_cache:start_link/2, checked once
%% (jwks_verify_cache_opts:config/1). Durations in milliseconds.
-record(cache_cfg, {
    %% {discovery, Issuer}: the JWKS URL comes from the issuer's metadata
    %% (jwks_verify_cache_discovery).
    source :: {uri, string()} | {discovery, string()} | {json, binary()}
              | {file, file:filename_all()} | undefined,
    %% the issuer tokens through this cache must name, unless the caller says
    issuer :: binary() | undefined,
    static :: jwks_verify:key_set() | undefined,
    allow_http = false :: boolean(),
    ttl = 600000 :: pos_integer(),
    min_ttl = 60000 :: non_neg_integer(),
    max_ttl = 86400000 :: pos_integer(),
    refetch_interval = 30000 :: non_neg_integer(),
    negative_ttl = 300000 :: non_neg_integer(),
    stale_ceiling = 86400000 :: non_neg_integer(),
    connect_timeout = 5000 :: pos_integer(),
    timeout = 10000 :: pos_integer(),
    max_body_bytes = 1048576 :: pos_integer(),
    max_redirects = 3 :: non_neg_integer(),
    await_first_fetch = 0 :: non_neg_integer(),
    ssl = [] :: list(),
    backoff_initial = 1000 :: pos_integer(),
    backoff_max = 60000 :: pos_integer(),
    %% 0: no token cache
    token_cache = 0 :: non_neg_integer()
}).

%%--------------------------------------------------------------------
%% The cache's table: named after the cache, protected, read_concurrency
%%--------------------------------------------------------------------

%% The token cache, when on: {Tid, MaxEntries} of a protected table of ?TOKEN
%% rows (the cache process writes them, callers read them).
-type jwks_verify_token_cache() :: {ets:tid(), pos_integer()} | undefined.

%% {key_set, KeySet, ExpiresAt, UnusableAt, Generation, TokenCache}: one row
%% (the record's tag is its key). Fresh before expires_at, unusable from
%% unusable_at (`infinity' for a static source; a number is less than any
%% atom); generation grows with each new key set.
-record(key_set, {
    key_set :: jwks_verify:key_set(),
    expires_at :: integer() | infinity,
    unusable_at :: integer() | infinity,
    generation :: non_neg_integer(),
    token_cache :: jwks_verify_token_cache()
}).

%% {kid_gate, NextRefetchAt, Deferred, InFlight, CallTimeout}: one row, what a
%% caller needs to decide whether a kid miss may ask for a refetch: none
%% before next_refetch_at unless one is under way (in_flight) or not yet
%% queued (deferred); call_timeout bounds the caller's wait.
-record(kid_gate, {
    next_refetch_at :: integer(),
    deferred :: boolean(),
    in_flight :: boolean(),
    call_timeout :: pos_integer()
}).

%% {{negative, Kid}, Until}: a kid known absent; misses on it ask for no
%% refetch until Until. Macros, not a record: the key is the pair.
-define(NEGATIVE_KEY(Kid), {negative, Kid}).
-define(NEGATIVE(Kid, Until), {?NEGATIVE_KEY(Kid), Until}).

%% {issuer, Issuer}: one row, written at start when the cache knows its
%% issuer; verification with no `iss' option then requires it.
-define(ISSUER(Issuer), {issuer, Issuer}).

%%--------------------------------------------------------------------
%% The token cache's table: protected, read concurrency
%%--------------------------------------------------------------------

%% {TokenHash, Opts, Generation, Exp, Nbf, Iat, DropAt, Claims}: a verified
%% JWT keyed by the SHA-256 of the token; Opts the prepared options less
%% `now'; Nbf and Iat ?NO_TIME when absent; DropAt is exp plus leeway, in
%% seconds, after which the sweep drops the row. A macro, not a record: the
%% key is the hash.
-define(TOKEN(Hash, Opts, Generation, Exp, Nbf, Iat, DropAt, Claims),
        {Hash, Opts, Generation, Exp, Nbf, Iat, DropAt, Claims}).

%% Absent nbf/iat compare as this (below any int64 claim).
-define(NO_TIME, -(1 bsl 63)).
