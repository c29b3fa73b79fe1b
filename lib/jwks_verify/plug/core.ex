defmodule JwksVerify.Plug.Core do
  @moduledoc """
  The request-path decision shared by `JwksVerify.Plug` and `:jwks_verify_httpd`.

  A pure function of prepared configuration, request headers and path: it
  extracts the bearer token (RFC 6750 §2.1), verifies it with `:jwks_verify`
  and answers `{:ok, claims}`, `:skip` (a public path) or the full error
  response `{:error, status, headers, body}`. The adapters only move these
  values in and out of their web server, so every rule below is tested here
  once, with no web server at all.

  ## Options

  `init/1` takes these (the Plug passes its own options through):

    * `:cache` - the name of a running `JwksVerify.Cache`; required unless
      `:key_set` is given.
    * `:key_set` - a key set from `JwksVerify.key_set/1`, for tests and static
      keys. Not accepted by `JwksVerify.Plug` (a key set cannot be embedded in
      a router compiled by Phoenix).
    * `:iss`, `:aud`, `:algs`, `:leeway`, `:required`, `:typ`,
      `:max_token_bytes` - verification options, see `JwksVerify`. `:now` is
      refused: a request is always checked against the clock.
    * `:assign` - where the Plug puts the claims, defaults to `:current_user`.
    * `:public_paths` - paths served without a token. `"/public"` matches
      that path only (and `"/public/"`); `"/assets/*"` matches `/assets` and
      everything below it. Paths are compared segment by segment, as Phoenix
      routes them; a path with a `.` or `..` segment is never public.
    * `:skip` - `{module, function}` called as `module.function(path)`; when
      it returns `true` the request needs no token.
    * `:on_error` - `{module, function}` that shapes the error response (see
      the adapters for its arguments).
    * `:unavailable_status` - the status when the key set can't be had,
      defaults to `503`: the client is not to blame for an issuer outage.
    * `:realm` - a `realm` for the `WWW-Authenticate` challenge, unset by
      default.

  ## Responses

  Every failure answers a JSON body `{"error": "<status phrase>", "details":
  "<reason>"}` with a `details` string from the table of `details/1`, and:

    * no `Authorization` header, or another scheme (`Basic ...`): `401` with
      `WWW-Authenticate: Bearer` and no error code (RFC 6750 §3.1);
    * a malformed header (two `Authorization` headers, no token after
      `Bearer`, whitespace inside the token): `400` with
      `error="invalid_request"`;
    * a token that fails verification: `401` with `error="invalid_token"` and
      an `error_description` equal to `details`;
    * a key set that can't be had (`:jwks_unavailable`, or a fetched JWKS
      that is unusable): `:unavailable_status`, no challenge;
    * `:internal_error`: `500`.
  """

  @typedoc "Prepared configuration: plain data (Phoenix embeds it in the router)."
  @type config :: %{
          keys: atom() | JwksVerify.key_set(),
          opts: JwksVerify.prepared_opts(),
          assign: atom(),
          public: [{:exact | :prefix, [binary()]}],
          skip: {module(), atom()} | nil,
          on_error: {module(), atom()} | nil,
          unavailable_status: 100..599,
          realm: binary() | nil
        }

  @typedoc "Request headers as Plug and Cowboy give them: lowercase names."
  @type headers :: [{binary(), binary()}]

  @typedoc "What refused a request: a `JwksVerify.reason()` or a header problem."
  @type reason ::
          JwksVerify.reason()
          | :missing_token
          | :multiple_authorization
          | :malformed_authorization

  @type response :: {:error, 100..599, headers(), binary()}

  @verify_keys [:iss, :aud, :algs, :leeway, :required, :typ, :max_token_bytes]
  @known [
           :cache,
           :key_set,
           :assign,
           :public_paths,
           :skip,
           :on_error,
           :unavailable_status,
           :realm
         ] ++ @verify_keys

  # The stable `details` strings: one per reason, never echoing token bytes.
  # {status class, details}; :token means 401 with error="invalid_token".
  @reasons %{
    missing_token: {:missing, "missing bearer token"},
    multiple_authorization: {:request, "multiple authorization headers"},
    malformed_authorization: {:request, "malformed authorization header"},
    token_too_large: {:token, "token too large"},
    malformed_token: {:token, "malformed token"},
    bad_base64: {:token, "invalid base64url encoding"},
    bad_header: {:token, "invalid token header"},
    alg_none: {:token, "unsigned token"},
    unsupported_alg: {:token, "unsupported algorithm"},
    alg_not_allowed: {:token, "algorithm not allowed"},
    embedded_key: {:token, "embedded key not allowed"},
    unsupported_crit: {:token, "unsupported critical header"},
    invalid_typ: {:token, "invalid token type"},
    unknown_kid: {:token, "unknown key id"},
    ambiguous_kid: {:token, "ambiguous key id"},
    no_matching_key: {:token, "no matching key"},
    key_alg_mismatch: {:token, "key algorithm mismatch"},
    key_type_mismatch: {:token, "key type mismatch"},
    key_not_for_signing: {:token, "key not for signing"},
    rsa_key_too_small: {:token, "rsa key too small"},
    weak_rsa_exponent: {:token, "weak rsa exponent"},
    roca_weak_key: {:token, "weak rsa key"},
    invalid_ec_point: {:token, "invalid ec point"},
    invalid_key: {:token, "invalid key"},
    unsupported_key: {:token, "unsupported key"},
    bad_signature_length: {:token, "invalid signature length"},
    signature_out_of_range: {:token, "signature out of range"},
    bad_signature: {:token, "invalid signature"},
    bad_payload: {:token, "invalid token payload"},
    invalid_claim: {:token, "invalid claim"},
    missing_claim: {:token, "missing claim"},
    expired: {:token, "token expired"},
    not_yet_valid: {:token, "token not yet valid"},
    issued_in_future: {:token, "token issued in the future"},
    invalid_issuer: {:token, "invalid issuer"},
    invalid_audience: {:token, "invalid audience"},
    jwks_too_large: {:unavailable, "jwks too large"},
    bad_json: {:unavailable, "jwks is not json"},
    bad_jwks: {:unavailable, "invalid jwks"},
    too_many_keys: {:unavailable, "too many keys in jwks"},
    jwks_unavailable: {:unavailable, "jwks unavailable"},
    internal_error: {:internal, "internal error"}
  }

  ## Configuration

  @doc """
  Validates options once and returns the prepared configuration.
  Raises `ArgumentError` on an unknown option or a bad value.
  """
  @spec init(keyword() | map()) :: config()
  def init(opts) when is_map(opts), do: init(Map.to_list(opts))

  def init(opts) when is_list(opts) do
    unless Keyword.keyword?(opts) do
      raise ArgumentError, "expected a keyword list of options, got: #{inspect(opts)}"
    end

    for {key, _} <- opts, key not in @known do
      raise ArgumentError,
            "unknown option #{inspect(key)}, expected one of: #{inspect(@known)}"
    end

    %{
      keys: keys(opts),
      opts: JwksVerify.options(Keyword.take(opts, @verify_keys)),
      assign: atom_opt(opts, :assign, :current_user),
      public: public_paths(Keyword.get(opts, :public_paths, [])),
      skip: mf_opt(opts, :skip),
      on_error: mf_opt(opts, :on_error),
      unavailable_status: status_opt(opts),
      realm: realm_opt(opts)
    }
  end

  def init(other) do
    raise ArgumentError, "expected a keyword list of options, got: #{inspect(other)}"
  end

  defp keys(opts) do
    case {Keyword.fetch(opts, :cache), Keyword.fetch(opts, :key_set)} do
      {{:ok, name}, :error} when is_atom(name) and name not in [nil, true, false] ->
        name

      {:error, {:ok, ref}} when is_reference(ref) ->
        ref

      {{:ok, _}, {:ok, _}} ->
        raise ArgumentError, "give :cache or :key_set, not both"

      {:error, :error} ->
        raise ArgumentError, "the :cache option (a JwksVerify.Cache name) is required"

      {{:ok, bad}, _} ->
        raise ArgumentError, ":cache must be the atom naming a cache, got: #{inspect(bad)}"

      {_, {:ok, bad}} ->
        raise ArgumentError,
              ":key_set must come from JwksVerify.key_set/1, got: #{inspect(bad)}"
    end
  end

  defp atom_opt(opts, key, default) do
    case Keyword.get(opts, key, default) do
      atom when is_atom(atom) and atom not in [nil, true, false] -> atom
      bad -> raise ArgumentError, "#{inspect(key)} must be an atom, got: #{inspect(bad)}"
    end
  end

  defp mf_opt(opts, key) do
    case Keyword.get(opts, key) do
      nil ->
        nil

      {m, f} when is_atom(m) and is_atom(f) ->
        {m, f}

      bad ->
        raise ArgumentError,
              "#{inspect(key)} must be a {module, function} tuple, got: #{inspect(bad)}"
    end
  end

  defp status_opt(opts) do
    case Keyword.get(opts, :unavailable_status, 503) do
      s when is_integer(s) and s in 100..599 ->
        s

      bad ->
        raise ArgumentError,
              ":unavailable_status must be an HTTP status code, got: #{inspect(bad)}"
    end
  end

  defp realm_opt(opts) do
    case Keyword.get(opts, :realm) do
      nil ->
        nil

      realm when is_binary(realm) ->
        if quotable?(realm),
          do: realm,
          else: raise(ArgumentError, ":realm must be printable ASCII without \" or \\")

      bad ->
        raise ArgumentError, ":realm must be a string, got: #{inspect(bad)}"
    end
  end

  defp public_paths(paths) when is_list(paths), do: Enum.map(paths, &public_path/1)

  defp public_paths(bad) do
    raise ArgumentError, ":public_paths must be a list of paths, got: #{inspect(bad)}"
  end

  defp public_path(path) when is_list(path), do: public_path(List.to_string(path))

  defp public_path("/" <> _ = path) do
    {kind, path} =
      if String.ends_with?(path, "/*"),
        do: {:prefix, binary_part(path, 0, byte_size(path) - 2)},
        else: {:exact, path}

    segments = segments(path)

    if segments == :dot_segment or String.contains?(path, "*") do
      raise ArgumentError,
            "bad public path #{inspect(path)}: no . or .. segments, * only at the end"
    end

    {kind, segments}
  end

  defp public_path(bad) do
    raise ArgumentError, "a public path must start with \"/\", got: #{inspect(bad)}"
  end

  ## The decision

  @doc """
  Decides a request: `{:ok, claims}`, `:skip` for a public path, or the
  response to send.
  """
  @spec decide(config(), headers(), binary()) :: {:ok, JwksVerify.claims()} | :skip | response()
  def decide(config, headers, path) do
    case check(config, headers, path) do
      {:error, reason} -> response(config, reason)
      ok_or_skip -> ok_or_skip
    end
  end

  @doc """
  Like `decide/3`, but a failure is `{:error, reason}`; `response/2` turns
  the reason into the response. The adapters use these two to hand the
  reason to `:on_error`.
  """
  @spec check(config(), headers(), binary()) ::
          {:ok, JwksVerify.claims()} | :skip | {:error, reason()}
  def check(%{public: [], skip: nil} = config, headers, _path), do: authenticate(config, headers)

  def check(config, headers, path) do
    if public?(config, path), do: :skip, else: authenticate(config, headers)
  end

  defp authenticate(%{keys: keys, opts: opts}, headers) do
    with {:ok, token} <- credentials(headers),
         {:error, _} = error <- :jwks_verify.verify(token, keys, opts) do
      # Whitespace is looked for only once verification failed: strict
      # base64url never verifies with it, so valid tokens skip the scan.
      if whitespace?(token), do: {:error, :malformed_authorization}, else: error
    end
  end

  @doc """
  The bearer token of a request (RFC 6750 §2.1): exactly one `authorization`
  header, scheme `Bearer` in any case, one or more spaces, then one token with
  no whitespace in it. Another scheme counts as no token at all (§3.1).
  """
  @spec bearer(headers()) :: {:ok, binary()} | {:error, reason()}
  def bearer(headers) do
    with {:ok, token} <- credentials(headers) do
      if whitespace?(token), do: {:error, :malformed_authorization}, else: {:ok, token}
    end
  end

  defp credentials(headers) do
    case authorization(headers, nil) do
      nil -> {:error, :missing_token}
      :many -> {:error, :multiple_authorization}
      value -> parse_bearer(trim(value))
    end
  end

  defp authorization([{"authorization", v} | rest], nil), do: authorization(rest, v)
  defp authorization([{"authorization", _} | _], _), do: :many
  defp authorization([_ | rest], acc), do: authorization(rest, acc)
  defp authorization([], acc), do: acc

  defp parse_bearer(<<scheme::binary-size(6), rest::binary>>) when scheme in ["Bearer", "bearer"],
    do: bearer_credentials(rest)

  defp parse_bearer(<<scheme::binary-size(6), rest::binary>>) do
    if String.downcase(scheme, :ascii) == "bearer",
      do: bearer_credentials(rest),
      else: {:error, :missing_token}
  end

  defp parse_bearer(_other_scheme), do: {:error, :missing_token}

  # "Bearer" alone is a malformed bearer header; "Bearerx ..." is another
  # scheme, as "Basic ..." is.
  defp bearer_credentials(""), do: {:error, :malformed_authorization}
  defp bearer_credentials(<<c, rest::binary>>) when c in [?\s, ?\t], do: token(trim_leading(rest))
  defp bearer_credentials(_), do: {:error, :missing_token}

  defp token(""), do: {:error, :malformed_authorization}
  defp token(token), do: {:ok, token}

  # One single-byte pattern at a time: far cheaper than a list pattern.
  defp whitespace?(token),
    do: :binary.match(token, " ") != :nomatch or :binary.match(token, "\t") != :nomatch

  defp trim(value), do: value |> trim_leading() |> trim_trailing()

  defp trim_leading(<<c, rest::binary>>) when c in [?\s, ?\t], do: trim_leading(rest)
  defp trim_leading(value), do: value

  defp trim_trailing(value) do
    size = byte_size(value) - 1

    case value do
      <<head::binary-size(size), c>> when c in [?\s, ?\t] -> trim_trailing(head)
      _ -> value
    end
  end

  ## Public paths

  defp public?(%{public: public, skip: skip}, path) do
    matches_public?(public, path) or skip?(skip, path)
  end

  defp matches_public?([], _path), do: false

  defp matches_public?(public, path) do
    case segments(path) do
      :dot_segment -> false
      segments -> Enum.any?(public, &match_path?(&1, segments))
    end
  end

  defp match_path?({:exact, want}, segments), do: want == segments
  defp match_path?({:prefix, want}, segments), do: List.starts_with?(segments, want)

  defp skip?(nil, _path), do: false
  defp skip?({m, f}, path), do: apply(m, f, [path]) == true

  # Segments as Phoenix splits them (empty ones dropped); :dot_segment for
  # "." or "..", which some servers resolve and some routers don't.
  defp segments(path) do
    segments = :binary.split(path, "/", [:global, :trim_all])
    if "." in segments or ".." in segments, do: :dot_segment, else: segments
  end

  ## Responses

  @doc """
  The error response for a reason: `{:error, status, headers, body}` with
  lowercase header names and a JSON body.
  """
  @spec response(config(), reason()) :: response()
  def response(config, reason) do
    {class, details} = classify(reason)
    status = status(class, config)
    body = encode_json(%{"error" => phrase(status), "details" => details})
    headers = [{"content-type", "application/json"} | challenge(class, status, details, config)]
    {:error, status, headers, body}
  end

  @doc """
  The stable `details` string of a reason; the table is the same as in the
  README. `{:missing_claim, name}` and `{:invalid_claim, name}` name the claim.

      iex> JwksVerify.Plug.Core.details(:expired)
      "token expired"
      iex> JwksVerify.Plug.Core.details({:missing_claim, "aud"})
      "missing claim: aud"
  """
  @spec details(reason()) :: binary()
  def details(reason), do: reason |> classify() |> elem(1)

  @doc "Every reason `details/1` knows, with its string (for docs and tests)."
  @spec reasons() :: %{atom() => binary()}
  def reasons, do: Map.new(@reasons, fn {reason, {_class, details}} -> {reason, details} end)

  defp classify({tag, name}) when tag in [:missing_claim, :invalid_claim] and is_binary(name) do
    {class, details} = Map.fetch!(@reasons, tag)
    {class, details <> ": " <> sanitize(name)}
  end

  defp classify(reason) when is_atom(reason) do
    Map.get(@reasons, reason, {:token, "invalid token"})
  end

  defp classify(_other), do: {:token, "invalid token"}

  defp status(:missing, _), do: 401
  defp status(:token, _), do: 401
  defp status(:request, _), do: 400
  defp status(:unavailable, %{unavailable_status: status}), do: status
  defp status(:internal, _), do: 500

  # RFC 6750 §3: no error code when no token came; invalid_request (400) for
  # a malformed header; invalid_token (401) for a token that fails.
  defp challenge(:missing, _status, _details, config),
    do: [{"www-authenticate", challenge_value(config, [])}]

  defp challenge(:request, 400, details, config) do
    [
      {"www-authenticate",
       challenge_value(config, error: "invalid_request", error_description: details)}
    ]
  end

  defp challenge(_class, 401, details, config) do
    [
      {"www-authenticate",
       challenge_value(config, error: "invalid_token", error_description: details)}
    ]
  end

  defp challenge(_class, _status, _details, _config), do: []

  defp challenge_value(%{realm: realm}, params) do
    params = if realm, do: [realm: realm] ++ params, else: params

    case params do
      [] ->
        "Bearer"

      _ ->
        "Bearer " <> Enum.map_join(params, ", ", fn {k, v} -> "#{k}=\"#{v}\"" end)
    end
  end

  # error_description allows %x20-21 / %x23-5B / %x5D-7E (RFC 6750 §3); the
  # claim names in details are ours or registered ones, but keep the header
  # well-formed whatever comes, and short.
  defp sanitize(name) do
    name
    |> binary_part(0, min(byte_size(name), 64))
    |> :binary.bin_to_list()
    |> Enum.map(fn c -> if c in 0x20..0x7E and c not in [?", ?\\], do: c, else: ?? end)
    |> List.to_string()
  end

  defp quotable?(s),
    do: s |> :binary.bin_to_list() |> Enum.all?(&(&1 in 0x20..0x7E and &1 not in [?", ?\\]))

  defp phrase(400), do: "Bad Request"
  defp phrase(401), do: "Unauthorized"
  defp phrase(403), do: "Forbidden"
  defp phrase(500), do: "Internal Server Error"
  defp phrase(502), do: "Bad Gateway"
  defp phrase(503), do: "Service Unavailable"
  defp phrase(504), do: "Gateway Timeout"
  defp phrase(status), do: Integer.to_string(status)

  ## JSON

  @doc """
  Encodes claims-shaped terms as JSON: maps with string (or atom) keys,
  lists, strings, integers, floats, `true`, `false`, `nil`/`:null`.
  Strings must be UTF-8; control characters, `"` and `\\` are escaped.
  Raises `ArgumentError` on anything else.

      iex> JwksVerify.Plug.Core.encode_json(%{"a" => [1, "x\\"y", :null]})
      ~s({"a":[1,"x\\\\"y",null]})
  """
  @spec encode_json(term()) :: binary()
  def encode_json(term), do: IO.iodata_to_binary(json(term))

  defp json(true), do: "true"
  defp json(false), do: "false"
  defp json(nil), do: "null"
  defp json(:null), do: "null"
  defp json(i) when is_integer(i), do: Integer.to_string(i)
  defp json(f) when is_float(f), do: :erlang.float_to_binary(f, [:short])
  defp json(s) when is_binary(s), do: string(s)
  defp json(a) when is_atom(a), do: string(Atom.to_string(a))
  defp json(l) when is_list(l), do: [?[, Enum.map_intersperse(l, ?,, &json/1), ?]]

  defp json(m) when is_map(m) and not is_struct(m) do
    members =
      m
      |> Enum.sort()
      |> Enum.map_intersperse(?,, fn {k, v} -> [key(k), ?:, json(v)] end)

    [?{, members, ?}]
  end

  defp json(other), do: raise(ArgumentError, "cannot encode as JSON: #{inspect(other)}")

  defp key(k) when is_binary(k), do: string(k)
  defp key(k) when is_atom(k), do: string(Atom.to_string(k))
  defp key(k), do: raise(ArgumentError, "JSON object keys must be strings, got: #{inspect(k)}")

  defp string(s) do
    unless String.valid?(s), do: raise(ArgumentError, "cannot encode invalid UTF-8 as JSON")
    [?", escape(s, s, 0, 0, []), ?"]
  end

  # Copies runs of plain bytes as sub-binaries and escapes the rest.
  defp escape(<<c, rest::binary>>, s, start, len, acc) when c < 0x20 or c == ?" or c == ?\\ do
    acc = [acc, binary_part(s, start, len), escape_char(c)]
    escape(rest, s, start + len + 1, 0, acc)
  end

  defp escape(<<_, rest::binary>>, s, start, len, acc), do: escape(rest, s, start, len + 1, acc)
  defp escape(<<>>, s, start, len, acc), do: [acc, binary_part(s, start, len)]

  defp escape_char(?"), do: "\\\""
  defp escape_char(?\\), do: "\\\\"
  defp escape_char(?\n), do: "\\n"
  defp escape_char(?\r), do: "\\r"
  defp escape_char(?\t), do: "\\t"

  defp escape_char(c) do
    hex = Integer.to_string(c, 16)
    "\\u" <> String.duplicate("0", 4 - byte_size(hex)) <> hex
  end
end
