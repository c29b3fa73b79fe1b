defmodule Mix.Tasks.JwksVerify.Verify do
  @shortdoc "Verifies a JWT against a JWKS and prints header, claims and verdict"

  @moduledoc """
  Verifies a JWT against a JWKS and prints its header, its claims and the
  verdict, for debugging tokens.

      mix jwks_verify.verify TOKEN --jwks URL_OR_FILE [options]

  `TOKEN` may be `-` to read it from standard input, which keeps it out of
  the shell history. A pasted `Bearer eyJ...` (or a whole
  `Authorization: Bearer eyJ...` line) is taken too: the scheme is dropped,
  and the output says so. The header and the payload are printed as the token
  carries them, even when verification fails (they are not trusted until
  the verdict says so).

  The exit status is `0` when the token is valid and `1` otherwise.

  ## Options

    * `--jwks` - the key set: an `https://` URL (the server certificate is
      checked against the system CA store), an `http://` URL, or a file
      (required)
    * `--iss` - the accepted issuer; repeat for several
    * `--aud` - the accepted audience; repeat for several. Without it, a token
      carrying `aud` is refused (RFC 7519 §4.1.3)
    * `--any-aud` - accept any `aud` (unsafe: a token minted for another API
      passes; for looking at tokens, not for deciding)
    * `--alg` - an allowed algorithm, defaults to `RS256`; repeat for several
    * `--leeway` - seconds of clock skew allowed, defaults to `0`
    * `--required` - a claim that must be present, defaults to `exp`; repeat
      for several
    * `--typ` - the required header `typ`
    * `--now` - check the token as of this time (seconds since the epoch)

  ## Example

      $ mix jwks_verify.verify "$TOKEN" --jwks https://issuer.example/.well-known/jwks.json \\
          --iss https://issuer.example/ --aud my-api
  """

  use Mix.Task

  @switches [
    jwks: :string,
    iss: :keep,
    aud: :keep,
    any_aud: :boolean,
    alg: :keep,
    leeway: :integer,
    required: :keep,
    typ: :string,
    now: :integer
  ]

  @impl true
  def run(args) do
    {switches, argv} = OptionParser.parse!(args, strict: @switches)

    {token, dropped} =
      case argv do
        [token] -> token |> read_token() |> drop_scheme()
        _ -> Mix.raise("usage: mix jwks_verify.verify TOKEN --jwks URL_OR_FILE [options]")
      end

    source = switches[:jwks] || Mix.raise("--jwks URL_OR_FILE is required")
    Mix.Task.run("app.config")
    opts = verify_opts(switches)

    if dropped, do: section("Note", "dropped #{inspect(dropped)}: the token is what follows it")
    print_token(token)

    with {:ok, json} <- read_jwks(source),
         {:ok, key_set} <- parse_jwks(json) do
      print_key_set(source, key_set)
      verdict(token, key_set, opts, switches)
    else
      {:error, message} ->
        section("Verdict", "not verified: " <> message)
        exit({:shutdown, 1})
    end
  end

  defp read_token("-"), do: IO.read(:stdio, :eof) |> to_string() |> String.trim()
  defp read_token(token), do: String.trim(token)

  # What gets pasted from a request: the header's value, or the whole line.
  # The scheme is matched in any case, as servers do (RFC 7235 §2.1).
  defp drop_scheme(token) do
    case Regex.run(~r/\A((?:authorization:\s*)?bearer\s+)(\S+)\z/i, token) do
      [_, prefix, rest] -> {rest, String.trim_trailing(prefix)}
      nil -> {token, nil}
    end
  end

  defp verify_opts(switches) do
    opts =
      [
        iss: Keyword.get_values(switches, :iss),
        aud: if(switches[:any_aud], do: :any, else: Keyword.get_values(switches, :aud)),
        algs: Keyword.get_values(switches, :alg),
        required: Keyword.get_values(switches, :required),
        leeway: switches[:leeway],
        typ: switches[:typ],
        now: switches[:now]
      ]
      |> Enum.reject(fn {_key, value} -> value in [nil, []] end)

    JwksVerify.options(opts)
  rescue
    e in ArgumentError -> Mix.raise("bad option: " <> Exception.message(e))
  end

  ## The token, as it is

  defp print_token(token) do
    case String.split(token, ".") do
      [h, p, _s] ->
        section("Header", decoded(h))
        section("Claims", decoded(p))

      parts ->
        section("Token", "#{length(parts)} segment(s), a compact JWS has 3")
    end
  end

  defp decoded(segment) do
    case Base.url_decode64(segment, padding: false) do
      {:ok, bytes} ->
        if String.printable?(bytes), do: bytes, else: "(not text) " <> inspect(bytes)

      :error ->
        "(not base64url)"
    end
  end

  ## The key set

  defp read_jwks("https://" <> _ = url), do: fetch(url)
  defp read_jwks("http://" <> _ = url), do: fetch(url)

  defp read_jwks(path) do
    case File.read(path) do
      {:ok, json} -> {:ok, json}
      {:error, reason} -> {:error, "cannot read #{path}: #{:file.format_error(reason)}"}
    end
  end

  defp fetch(url) do
    {:ok, _} = Application.ensure_all_started(:inets)
    {:ok, _} = Application.ensure_all_started(:ssl)
    request = {String.to_charlist(url), [{~c"accept", ~c"application/json"}]}
    http = [timeout: 15_000, connect_timeout: 5_000, autoredirect: true, ssl: tls_opts()]

    case :httpc.request(:get, request, http, body_format: :binary) do
      {:ok, {{_, 200, _}, _headers, body}} -> {:ok, body}
      {:ok, {{_, status, _}, _headers, _body}} -> {:error, "#{url} answered HTTP #{status}"}
      {:error, reason} -> {:error, "cannot fetch #{url}: #{inspect(reason)}"}
    end
  end

  defp tls_opts do
    [
      verify: :verify_peer,
      cacerts: :public_key.cacerts_get(),
      depth: 4,
      customize_hostname_check: [match_fun: :public_key.pkix_verify_hostname_match_fun(:https)]
    ]
  end

  defp parse_jwks(json) do
    case JwksVerify.key_set(json) do
      {:ok, key_set} -> {:ok, key_set}
      {:error, reason} -> {:error, "the JWKS is unusable: #{inspect(reason)}"}
    end
  end

  defp print_key_set(source, key_set) do
    %{usable: usable, keys: keys} = JwksVerify.key_set_info(key_set)

    lines =
      for key <- keys do
        status = if key.status == :ok, do: "usable", else: "refused: #{inspect(key.status)}"
        "#{kid(key.kid)} #{key.kty} #{alg(key.alg)} #{status}"
      end

    section("JWKS", ["#{source}: #{length(keys)} key(s), #{usable} usable" | lines])
  end

  ## The verdict

  defp verdict(token, key_set, opts, switches) do
    case JwksVerify.verify(token, key_set, opts) do
      {:ok, claims} ->
        now = switches[:now] || System.system_time(:second)
        section("Verdict", ["valid" | times(claims, now)] ++ unchecked(switches))

      {:error, reason} ->
        now = switches[:now] || System.system_time(:second)

        section("Verdict", [
          "invalid: #{inspect(reason)} (#{:jwks_verify_guard.details(reason)})"
          | why(reason, token, now)
        ])

        exit({:shutdown, 1})
    end
  end

  # How far off the clock a token is. It verified up to its times, so its
  # claims are the issuer's; they are read only to say when.
  defp why(reason, token, now) when reason in [:expired, :not_yet_valid, :issued_in_future] do
    {name, say} =
      case reason do
        :expired -> {"exp", &"expired #{&1} ago"}
        :not_yet_valid -> {"nbf", &"not valid for another #{&1}"}
        :issued_in_future -> {"iat", &"issued #{&1} in the future"}
      end

    case unverified_claims(token) do
      %{^name => t} when is_integer(t) ->
        ["#{say.(duration(abs(now - t)))} (#{name} #{iso8601(t)})"]

      _ ->
        []
    end
  end

  defp why(reason, token, _now) when reason in [:bad_base64, :malformed_token] do
    if token =~ ~r/\s/,
      do: ["the token holds whitespace: give the compact JWT alone (header.payload.signature)"],
      else: []
  end

  defp why(_reason, _token, _now), do: []

  defp unverified_claims(token) do
    case :jwks_verify.peek_unverified(token) do
      {:ok, %{claims: claims}} -> claims
      {:error, _} -> %{}
    end
  end

  defp iso8601(t) do
    t |> DateTime.from_unix!() |> DateTime.to_iso8601()
  rescue
    ArgumentError -> Integer.to_string(t)
  end

  # "42 s", "12 min 5 s", "3 h 12 min", "2 d 4 h": the two largest units.
  defp duration(s) do
    units = [{"d", 86_400}, {"h", 3_600}, {"min", 60}, {"s", 1}]

    {parts, _} =
      Enum.reduce(units, {[], s}, fn {name, size}, {acc, left} ->
        {[{div(left, size), name} | acc], rem(left, size)}
      end)

    case parts |> Enum.reverse() |> Enum.drop_while(&(elem(&1, 0) == 0)) |> Enum.take(2) do
      [] ->
        "0 s"

      top ->
        top
        |> Enum.reject(&(elem(&1, 0) == 0))
        |> Enum.map_join(" ", fn {n, u} -> "#{n} #{u}" end)
    end
  end

  defp times(claims, now) do
    for name <- ["iat", "nbf", "exp"], is_integer(t = claims[name]) do
      when_ = if t >= now, do: "in #{t - now} s", else: "#{now - t} s ago"
      "#{name} #{DateTime.from_unix!(t)} (#{when_})"
    end
  rescue
    ArgumentError -> []
  end

  # A valid token proves little about who it was for when these are unset.
  # Without --aud a token carrying aud is refused, so aud goes unchecked only
  # with --any-aud (or for a token without aud, which no --aud would accept).
  defp unchecked(switches) do
    iss = if Keyword.has_key?(switches, :iss), do: [], else: ["iss (give --iss)"]
    aud = if switches[:any_aud], do: ["aud (--any-aud)"], else: []

    case iss ++ aud do
      [] -> []
      missing -> ["not checked: " <> Enum.join(missing, ", ")]
    end
  end

  defp kid(nil), do: "(no kid)"
  defp kid(:undefined), do: "(no kid)"
  defp kid(kid), do: inspect(kid)

  defp alg(alg) when is_binary(alg), do: alg
  defp alg(_), do: "(any alg)"

  defp section(title, lines) do
    Mix.shell().info(title)
    for line <- List.wrap(lines), do: Mix.shell().info("  " <> line)
  end
end
