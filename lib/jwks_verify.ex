defmodule JwksVerify do
  @moduledoc """
  Verify JWTs signed by a remote identity provider against its JWKS, in C.

  A key set is parsed once with `key_set/1` into an immutable term that any
  number of processes can share (or keep in ETS); `verify/3` checks a compact
  JWT against it: size, structure, header rules (RFC 8725), key selection,
  signature, then claims. `verify/3` also takes the name of a running
  `JwksVerify.Cache` instead of a key set.

  Untrusted input never raises: the answer is `{:error, reason}` with a reason
  from `t:reason/0`. Caller mistakes (a token that is not a binary, an unknown
  option) raise `ArgumentError`.

  ## Options

    * `:algs` - allowed algorithms, defaults to `["RS256"]`. Supported:
      `RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA`.
    * `:iss` - accepted issuer, a string or a list; not checked when unset.
    * `:aud` - accepted audience, a string or a list; the token's `aud`
      (string or array) must contain one of them, and a token without `aud`
      is `{:missing_claim, "aud"}`. When unset, a token that carries `aud` is
      `:invalid_audience` (RFC 7519 §4.1.3: it was minted for someone, and you
      have not said who you are); tokens without `aud` pass. `aud: :any`
      accepts any `aud` unchecked: unsafe (RFC 8725 §3.9), as a token minted
      for another API of the same issuer then passes.
    * `:leeway` - seconds of clock skew allowed for `exp`, `nbf` and `iat`,
      defaults to `0`.
    * `:now` - the current time in seconds since the epoch, defaults to the
      system clock (set it in tests instead of mocking a clock).
    * `:required` - claims that must be present, defaults to `["exp"]`.
    * `:typ` - when set, the header's `typ` must equal it (case-insensitive,
      an `application/` prefix ignored, RFC 7515 §4.1.9). When unset, any
      `typ` passes (`JWT`, `at+jwt`, none).
    * `:max_token_bytes` - tokens longer than this are refused before any
      parsing, defaults to `32768`.

  ## Errors

  See `t:reason/0`.
  """

  @typedoc """
  Why a token or a JWKS was refused.

    * `:token_too_large` - longer than `:max_token_bytes`
    * `:malformed_token` - not three `.`-separated segments, or an empty header
    * `:bad_base64` - a segment is not strict base64url (RFC 7515 §2)
    * `:bad_header` - the header is not a UTF-8 JSON object without duplicate
      members and with numbers within the range of a double (`1e999` is
      refused by `verify/3` and `verify_jws/3` alike), or `alg`/`kid`/`typ`
      have the wrong type
    * `:alg_none` - `alg` is `none`, in any spelling
    * `:unsupported_alg` - `alg` is not one we implement (`HS256`, ...)
    * `:alg_not_allowed` - `alg` is supported but not in `:algs`
    * `:embedded_key` - the header carries `jwk`, `jku`, `x5u` or `x5c`
    * `:unsupported_crit` - the header has `crit` (we understand no extension)
    * `:invalid_typ` - `typ` does not match the `:typ` option
    * `:unknown_kid` - no key in the set has the token's `kid`
    * `:ambiguous_kid` - several signing keys under the token's `kid` fit its
      `alg` (keys of different types may share a `kid`, RFC 7517 §4.5: the
      one whose `kty`/`crv` fits the `alg` is used)
    * `:no_matching_key` - the token has no `kid` and no key fits its `alg`
    * `:key_alg_mismatch` - the selected key's own `alg` differs from the token's
    * `:key_type_mismatch` - the selected key's `kty`/`crv` does not fit the `alg`
    * `:key_not_for_signing` - the key's `use` is not `sig` or its `key_ops` lack `verify`
    * `:private_key` - the JWKS publishes the key with private members (`d`, `p`,
      `q`, `dp`, `dq`, `qi`, `oth` or `k`), or a public key that such a private
      JWK also publishes: whoever has the JWKS can sign with it (from
      `key_set_from_pem/1`, a private PEM)
    * `:rsa_key_too_small` - RSA modulus under 2048 bits
    * `:weak_rsa_exponent` - RSA exponent even, under 65537 or over 64 bits
    * `:roca_weak_key` - RSA modulus with the ROCA fingerprint (CVE-2017-15361)
    * `:invalid_ec_point` - EC public key not on its curve, or a small-order Ed25519 key
    * `:invalid_key` - a key's members are missing or ill-encoded
    * `:unsupported_key` - a key of a kty or crv we do not implement (`oct`, ...)
    * `:bad_signature_length` - signature of the wrong length for the alg and key
    * `:signature_out_of_range` - ECDSA `r` or `s` is zero or not below the group order
    * `:bad_signature` - the signature does not verify
    * `:bad_payload` - the payload is not a UTF-8 JSON object under the same
      rules; a claim beyond the range of a double (`1e400`, in `exp` too) is
      refused here, before any claim is read
    * `{:invalid_claim, name}` - `exp`/`nbf`/`iat` not an integer in int64 range,
      or `iss`/`sub`/`jti`/`aud` of the wrong type (RFC 7519 §4.1)
    * `{:missing_claim, name}` - a required claim is absent
    * `:expired` - `now - leeway >= exp`
    * `:not_yet_valid` - `now + leeway < nbf`
    * `:issued_in_future` - `iat > now + leeway`
    * `:invalid_issuer` - `iss` is not one of `:iss`
    * `:invalid_audience` - no `aud` value is one of `:aud`, or the token
      carries `aud` and no `:aud` is set (RFC 7519 §4.1.3)
    * `:jwks_too_large`, `:bad_json`, `:bad_jwks`, `:too_many_keys` - the JWKS
      document is over 4 MiB, not strict JSON (a number beyond a double
      included), not `{"keys": [...]}`, or over 10 000 keys
    * `:jwks_unavailable` - (cache) no key set could be fetched yet, or the last
      one is older than the stale ceiling
    * `:internal_error` - allocation or an unexpected OpenSSL failure
  """
  @type reason ::
          :token_too_large
          | :malformed_token
          | :bad_base64
          | :bad_header
          | :alg_none
          | :unsupported_alg
          | :alg_not_allowed
          | :embedded_key
          | :unsupported_crit
          | :invalid_typ
          | :unknown_kid
          | :ambiguous_kid
          | :no_matching_key
          | :key_alg_mismatch
          | :key_type_mismatch
          | :key_not_for_signing
          | :private_key
          | :rsa_key_too_small
          | :weak_rsa_exponent
          | :roca_weak_key
          | :invalid_ec_point
          | :invalid_key
          | :unsupported_key
          | :bad_signature_length
          | :signature_out_of_range
          | :bad_signature
          | :bad_payload
          | {:invalid_claim, binary()}
          | {:missing_claim, binary()}
          | :expired
          | :not_yet_valid
          | :issued_in_future
          | :invalid_issuer
          | :invalid_audience
          | :jwks_too_large
          | :bad_json
          | :bad_jwks
          | :too_many_keys
          | :internal_error
          | :jwks_unavailable

  @typedoc "A parsed, immutable key set (a NIF resource)."
  @type key_set :: :jwks_verify.key_set()
  @typedoc "Options validated by `options/1`."
  @type prepared_opts :: JwksVerify.Options.t()
  @type claims :: %{optional(binary()) => term()}

  @doc """
  Parses a JWKS document into a key set.

      iex> {:ok, _ks} = JwksVerify.key_set(~s({"keys": []}))
      iex> JwksVerify.key_set("not json")
      {:error, :bad_json}
  """
  @spec key_set(iodata()) :: {:ok, key_set()} | {:error, reason()}
  def key_set(json), do: call(fn -> :jwks_verify.key_set(json) end)

  @doc """
  Builds a key set from PEM public keys, for issuers that hand out PEM instead
  of a JWKS (Firebase's certificates, keys pasted from a console).

  Each entry is a map (or keyword list) with `:pem` and `:alg` (required: a PEM
  says nothing of the algorithm) and an optional `:kid`. The PEM holds a
  `PUBLIC KEY` (SubjectPublicKeyInfo), an `RSA PUBLIC KEY` (PKCS#1) or a
  `CERTIFICATE` (its subject key; its dates and chain are not checked). Keys go
  through the same checks as a JWKS's (RSA of 2048 bits or more, EC points on
  their curve). A private key is `{:error, :private_key}` for the whole call
  (replace it, don't skip it), a PEM with no readable public key
  `{:error, :invalid_key}`, a key that does not fit its `:alg`
  `{:error, :key_type_mismatch}`.

      pem = File.read!("issuer.pub.pem")
      {:ok, key_set} = JwksVerify.key_set_from_pem([%{pem: pem, alg: "RS256", kid: "k1"}])
  """
  @spec key_set_from_pem([%{pem: iodata(), alg: binary(), kid: binary()} | keyword()]) ::
          {:ok, key_set()} | {:error, reason()}
  def key_set_from_pem(entries) when is_list(entries) do
    entries = Enum.map(entries, fn e -> if is_list(e), do: Map.new(e), else: e end)
    call(fn -> :jwks_verify.key_set_from_pem(entries) end)
  end

  def key_set_from_pem(other), do: call(fn -> :jwks_verify.key_set_from_pem(other) end)

  @doc """
  Describes a key set: `%{usable: n, skipped: m, keys: [%{kid:, kty:, alg:, status:}]}`,
  where `status` is `:ok` or the reason the key is refused, and `kid`/`alg` are
  `nil` when the key has none.
  """
  @spec key_set_info(key_set()) :: %{
          usable: non_neg_integer(),
          skipped: non_neg_integer(),
          keys: [
            %{kid: binary() | nil, kty: binary(), alg: binary() | nil, status: :ok | reason()}
          ]
        }
  def key_set_info(key_set) do
    info = call(fn -> :jwks_verify.key_set_info(key_set) end)
    %{info | keys: Enum.map(info.keys, &nil_for_undefined/1)}
  end

  defp nil_for_undefined(key) do
    Map.new(key, fn
      {k, :undefined} -> {k, nil}
      pair -> pair
    end)
  end

  @doc """
  Verifies a compact JWT against a key set (or the name of a `JwksVerify.Cache`)
  and returns its claims as a map with string keys.
  """
  @spec verify(binary(), key_set() | atom(), keyword() | prepared_opts()) ::
          {:ok, claims()} | {:error, reason()}
  def verify(token, key_set, opts \\ []) do
    call(fn -> :jwks_verify.verify(token, key_set, prepared(opts)) end)
  end

  @doc """
  Verifies a compact JWS without reading its payload as claims; returns
  `%{header: map, payload: binary}`. Same rules as `verify/3` up to the signature.
  """
  @spec verify_jws(binary(), key_set() | atom(), keyword() | prepared_opts()) ::
          {:ok, %{header: map(), payload: binary()}} | {:error, reason()}
  def verify_jws(token, key_set, opts \\ []) do
    call(fn -> :jwks_verify.verify_jws(token, key_set, prepared(opts)) end)
  end

  @doc """
  **UNVERIFIED**: decodes a token's header and claims without checking anything
  that makes them true.

  No signature, no key, no `alg` rule and no claim (not even `exp`) is checked:
  anyone can forge what this returns. **Never use it for an authorization
  decision**; verify with `verify/3` first. It is for logging a refused token,
  and for choosing, before verifying, which issuer's key set or options to use
  (by `iss`, or by the header's `kid`):

      # the cache of each issuer you trust; verify/3 then checks iss for real
      with {:ok, %{claims: %{"iss" => iss}}} <- JwksVerify.peek_unverified(token),
           {:ok, cache} <- Map.fetch(@caches_by_issuer, iss) do
        JwksVerify.verify(token, cache, iss: iss, aud: "my-api")
      end

  The parsing is the strict one of `verify/3`: a token over `:max_token_bytes`
  (the one option, defaults to `32768`, as for `verify/3`) is
  `:token_too_large` before any parsing, then `:malformed_token`, `:bad_base64`
  (any segment, the signature's too), `:bad_header` and `:bad_payload` (not a
  UTF-8 JSON object without duplicate members, nested at most 32 deep, numbers
  within the double range).
  """
  @spec peek_unverified(binary(), max_token_bytes: pos_integer()) ::
          {:ok, %{header: map(), claims: claims()}} | {:error, reason()}
  def peek_unverified(token, opts \\ []) do
    unless Keyword.keyword?(opts) do
      raise ArgumentError, "expected options as a keyword list, got: #{inspect(opts)}"
    end

    call(fn -> :jwks_verify.peek_unverified(token, Map.new(opts)) end)
  end

  @doc """
  Checks that verified claims grant every scope in `required`, for per-action
  checks in a controller.

  Scopes come from the token's `scope` claim (a space-separated string, RFC 9068
  §2.2.3) or `scp` (an array, as Azure AD and Okta send). They compare whole:
  `"read"` does not grant `"read:all"`.

      iex> JwksVerify.check_scopes(%{"scope" => "read write"}, ["read"])
      :ok
      iex> JwksVerify.check_scopes(%{"scp" => ["read"]}, ["read", "write"])
      {:error, {:insufficient_scope, ["write"]}}
      iex> JwksVerify.check_scopes(%{"scope" => "read:all"}, ["read"])
      {:error, {:insufficient_scope, ["read"]}}
  """
  @spec check_scopes(claims(), [binary()]) :: :ok | {:error, {:insufficient_scope, [binary()]}}
  def check_scopes(claims, required),
    do: call(fn -> :jwks_verify.check_scopes(claims, required) end)

  @doc """
  Validates options once, for repeated use (the cache and the Plug do this at start).
  Raises `ArgumentError` on an unknown option or a bad value.
  """
  @spec options(keyword() | map() | prepared_opts()) :: prepared_opts()
  def options(%JwksVerify.Options{} = prepared), do: prepared

  def options(opts) when is_list(opts) do
    unless Keyword.keyword?(opts) do
      raise ArgumentError, "expected options as a keyword list, got: #{inspect(opts)}"
    end

    %JwksVerify.Options{prepared: call(fn -> :jwks_verify.options(Map.new(opts)) end)}
  end

  def options(opts) when is_map(opts) do
    %JwksVerify.Options{prepared: call(fn -> :jwks_verify.options(opts) end)}
  end

  def options(opts) do
    raise ArgumentError, "expected options as a keyword list, got: #{inspect(opts)}"
  end

  @doc "Every reason atom the C core can return."
  @spec reasons() :: [atom()]
  def reasons, do: :jwks_verify.reasons()

  @doc """
  Where verifications run: `:auto` (the default) keeps one on the calling
  normal scheduler when its token is at most 8 KiB and no key of the set is an
  RSA key over 4096 bits, and moves it to a dirty CPU scheduler otherwise;
  `:dirty` moves every verification. Set it with
  `config :jwks_verify, verify_scheduler: :dirty` (read when the NIF loads) or
  `verify_scheduler/1`. See the README's "Scheduler usage".
  """
  @spec verify_scheduler() :: :auto | :dirty
  def verify_scheduler, do: :jwks_verify.verify_scheduler()

  @doc """
  Sets where verifications run (`:auto` or `:dirty`), for the whole VM, from the
  next call on; returns the setting before.
  """
  @spec verify_scheduler(:auto | :dirty) :: :auto | :dirty
  def verify_scheduler(mode), do: call(fn -> :jwks_verify.verify_scheduler(mode) end)

  defp prepared(opts), do: options(opts).prepared

  @doc false
  # The Erlang API raises {badarg, Detail} for caller mistakes; Elixir callers
  # expect ArgumentError saying the same in Elixir syntax. Other Elixir faces
  # (the cache, the Plug) call through here too.
  def call(fun) do
    fun.()
  catch
    :error, {:badarg, detail} -> reraise ArgumentError, describe(detail), __STACKTRACE__
  end

  @doc false
  def describe(%{message: _} = detail),
    do: :jwks_verify_badarg.message(detail, &inspect(&1, limit: 8, printable_limit: 256))

  def describe(detail) when is_binary(detail), do: detail
  def describe(detail) when is_list(detail), do: List.to_string(detail)
  def describe(detail), do: inspect(detail)
end
