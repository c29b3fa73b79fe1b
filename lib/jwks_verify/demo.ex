defmodule JwksVerify.Demo do
  @moduledoc """
  The runnable demo behind `make demo`: an identity provider and a protected
  API on loopback, and the requests a reader wants to see answered.

  On 127.0.0.1 it starts, with OTP's `:httpd`:

    * an issuer serving a freshly generated RSA key as a JWKS at
      `/.well-known/jwks.json` (tokens are signed with `:public_key`);
    * a `JwksVerify.Cache` fetching that JWKS over HTTP;
    * an API guarded by `:jwks_verify_httpd`, which calls
      `:jwks_verify_guard`, the decision `JwksVerify.Plug` makes in Phoenix:
      `/api/protected` answers `{"message":"Access granted","user":claims}`
      and `/public` needs no token.

  Then it sends the requests (no token, a tampered, an expired and a
  wrong-issuer token, a valid one, a key rotation) with `:httpc`, prints a
  table of outcomes with the time of each request, measures the latency of a
  valid request, and stops everything.
  """

  alias JwksVerify.Demo.Json

  @aud "demo-api"
  @cache JwksVerify.Demo.Jwks
  @samples 500

  @typedoc "One played scenario."
  @type result :: %{
          scenario: String.t(),
          request: String.t(),
          expected: pos_integer(),
          status: pos_integer(),
          details: String.t(),
          micros: non_neg_integer(),
          headers: [{charlist(), charlist()}],
          body: binary()
        }

  @doc """
  Runs the demo for `make demo`, raising when a scenario has an unexpected outcome.
  """
  @spec main() :: :ok
  def main do
    case run() do
      {:ok, _results} ->
        :ok

      {:error, results} ->
        raise "unexpected outcomes: #{inspect(for r <- results, r.status != r.expected, do: r.scenario)}"
    end
  end

  @doc """
  Plays the demo, printing as it goes; `{:ok, results}` when every scenario
  had its expected outcome, `{:error, results}` otherwise.

  Options: `:samples` - how many valid requests the latency figures are
  measured over, defaults to #{@samples}.
  """
  @spec run(keyword()) :: {:ok, [result()]} | {:error, [result()]}
  def run(opts \\ []) do
    {:ok, _} = Application.ensure_all_started(:inets)
    {:ok, _} = Application.ensure_all_started(:jwks_verify)
    started = System.monotonic_time(:millisecond)
    # The cache logs its fetches at info level; the table tells the story here.
    log_level = Logger.level()
    Logger.configure(level: :warning)

    key1 = new_key("demo-key-1")
    {:ok, jwks_state} = Agent.start_link(fn -> %{jwks: jwks([key1]), hits: 0} end)
    issuer = start_httpd([JwksVerify.Demo.Issuer], jwks_verify_demo: jwks_state)
    issuer_base = "http://127.0.0.1:#{port(issuer)}"
    iss = issuer_base <> "/"

    {:ok, cache} =
      JwksVerify.Cache.start_link(
        name: @cache,
        jwks_uri: issuer_base <> "/.well-known/jwks.json",
        allow_http: true,
        await_first_fetch: 5_000
      )

    :fresh = JwksVerify.Cache.status(@cache)

    guard = [cache: @cache, iss: iss, aud: @aud, public_paths: ["/public"]]
    api = start_httpd([:jwks_verify_httpd, JwksVerify.Demo.Api], jwks_verify: guard)
    api_base = "http://127.0.0.1:#{port(api)}"

    try do
      info("jwks_verify demo")
      info("  issuer  #{issuer_base}/.well-known/jwks.json (RSA 2048, kid demo-key-1)")
      info("  API     #{api_base}/api/protected, guarded by :jwks_verify_httpd; /public open")
      info("")

      key2 = new_key("demo-key-2")
      results = play(api_base, iss, key1, key2, jwks_state)
      print_table(results)
      print_body(results)
      print_latency(api_base, iss, key2, guard, Keyword.get(opts, :samples, @samples))

      hits = Agent.get(jwks_state, & &1.hits)
      ok? = Enum.all?(results, &(&1.status == &1.expected))
      took = System.monotonic_time(:millisecond) - started

      info("")

      info(
        "JWKS requests the issuer served: #{hits}" <>
          if(hits == 2, do: " (the first fetch, then one refetch for the new kid).", else: ".")
      )

      info(
        if ok?,
          do: "All #{length(results)} scenarios as expected, in #{took} ms.",
          else: "UNEXPECTED outcomes, see the table."
      )

      if ok?, do: {:ok, results}, else: {:error, results}
    after
      Logger.configure(level: log_level)
      :inets.stop(:httpd, api)
      GenServer.stop(cache)
      :inets.stop(:httpd, issuer)
      Agent.stop(jwks_state)
    end
  end

  ## The scenarios

  defp play(base, iss, key1, key2, jwks_state) do
    now = System.system_time(:second)

    claims = %{
      "iss" => iss,
      "aud" => @aud,
      "sub" => "alice",
      "name" => "Alice",
      "scope" => "read:messages",
      "iat" => now,
      "exp" => now + 300
    }

    valid = sign(key1, claims)
    [h, _p, s] = String.split(valid, ".")
    tampered = Enum.join([h, b64(Json.encode(%{claims | "sub" => "admin"})), s], ".")
    expired = sign(key1, %{claims | "iat" => now - 3600, "exp" => now - 60})
    wrong_iss = sign(key1, %{claims | "iss" => "https://evil.example/"})

    played = [
      request("public route, no token", base, "/public", nil, 200),
      request("no token", base, "/api/protected", nil, 401),
      request("tampered token (sub: admin)", base, "/api/protected", tampered, 401),
      request("expired token", base, "/api/protected", expired, 401),
      request("wrong issuer", base, "/api/protected", wrong_iss, 401),
      request("valid token", base, "/api/protected", valid, 200)
    ]

    # Rotation: the issuer retires key 1 and publishes key 2. The first token
    # with the new kid makes the cache refetch the JWKS, inline.
    Agent.update(jwks_state, &%{&1 | jwks: jwks([key2])})
    rotated = sign(key2, claims)

    played ++
      [
        request("key rotation: token from the new key", base, "/api/protected", rotated, 200),
        request("retired key after the rotation", base, "/api/protected", valid, 401)
      ]
  end

  defp request(scenario, base, path, token, expected) do
    headers =
      if token, do: [{~c"authorization", String.to_charlist("Bearer " <> token)}], else: []

    {micros, {status, resp_headers, body}} = :timer.tc(fn -> get(base <> path, headers) end)

    %{
      scenario: scenario,
      request: "GET " <> path <> if(token, do: " + token", else: ""),
      expected: expected,
      status: status,
      details: details(status, body),
      micros: micros,
      headers: resp_headers,
      body: body
    }
  end

  defp get(url, headers) do
    {:ok, {{_, status, _}, resp_headers, body}} =
      :httpc.request(:get, {String.to_charlist(url), headers}, [timeout: 5_000],
        body_format: :binary
      )

    {status, resp_headers, body}
  end

  defp details(200, _body), do: "-"

  defp details(_status, body) do
    case Regex.run(~r/"details":"([^"]*)"/, body) do
      [_, details] -> details
      nil -> "-"
    end
  end

  ## Output

  defp print_table(results) do
    rows =
      for {r, i} <- Enum.with_index(results, 1) do
        outcome = if r.status == r.expected, do: "ok", else: "UNEXPECTED"

        [
          "#{i}",
          r.scenario,
          "#{r.status}",
          "#{r.expected} #{outcome}",
          r.details,
          format_micros(r.micros)
        ]
      end

    table([["#", "scenario", "status", "expected", "details", "time"] | rows])
  end

  defp print_body(results) do
    with %{status: 401, headers: headers, body: body} <- scenario(results, "expired token") do
      info("")
      info("GET /api/protected with the expired token answered 401:")

      for {name, value} <- headers, name in [~c"www-authenticate", ~c"content-type"] do
        info("  #{name}: #{value}")
      end

      info("  " <> body)
    end

    with %{status: 200, body: body} <- scenario(results, "valid token") do
      info("")
      info("GET /api/protected with the valid token answered 200:")
      info("  " <> body)
    end
  end

  defp scenario(results, name), do: Enum.find(results, &(&1.scenario == name))

  # Round trips of a valid request over loopback HTTP, and the guard's own
  # decision (:jwks_verify_guard through the cache) without HTTP.
  defp print_latency(base, iss, key, guard, samples) do
    now = System.system_time(:second)
    token = sign(key, %{"iss" => iss, "aud" => @aud, "sub" => "alice", "exp" => now + 300})
    headers = [{~c"authorization", String.to_charlist("Bearer " <> token)}]

    http =
      for _ <- 1..samples do
        {micros, _answer} = :timer.tc(fn -> get(base <> "/api/protected", headers) end)
        micros
      end

    config = :jwks_verify_guard.init(guard)
    plug_headers = [{"authorization", "Bearer " <> token}]

    core =
      for _ <- 1..samples do
        {micros, _decision} =
          :timer.tc(fn -> :jwks_verify_guard.decide(config, plug_headers, "/api/protected") end)

        micros
      end

    info("")
    info("Latency of a valid request, #{samples} samples (median / 99th percentile):")
    info("  HTTP round trip on loopback    #{stats(http)}")
    info("  the guard alone (decide/3)     #{stats(core)}")
  end

  defp stats(samples) do
    sorted = Enum.sort(samples)
    median = Enum.at(sorted, div(length(sorted), 2))
    p99 = Enum.at(sorted, min(length(sorted) - 1, div(length(sorted) * 99, 100)))
    "#{format_micros(median)} / #{format_micros(p99)}"
  end

  defp format_micros(us) when us < 1_000, do: "#{us} µs"
  defp format_micros(us), do: :erlang.float_to_binary(us / 1000, decimals: 1) <> " ms"

  defp table(rows) do
    widths =
      rows
      |> Enum.zip()
      |> Enum.map(fn col -> col |> Tuple.to_list() |> Enum.map(&String.length/1) |> Enum.max() end)

    for row <- rows do
      row
      |> Enum.zip(widths)
      |> Enum.map_join("  ", fn {cell, w} -> String.pad_trailing(cell, w) end)
      |> String.trim_trailing()
      |> info()
    end
  end

  defp info(line), do: IO.puts(line)

  ## Keys and tokens, with :public_key

  defp new_key(kid), do: %{kid: kid, key: :public_key.generate_key({:rsa, 2048, 65_537})}

  defp jwks(keys) do
    Json.encode(%{
      "keys" =>
        for %{kid: kid, key: key} <- keys do
          # RSAPrivateKey: {_, version, modulus, publicExponent, ...}
          n = elem(key, 2)
          e = elem(key, 3)

          %{
            "kty" => "RSA",
            "kid" => kid,
            "use" => "sig",
            "alg" => "RS256",
            "n" => b64(:binary.encode_unsigned(n)),
            "e" => b64(:binary.encode_unsigned(e))
          }
        end
    })
  end

  defp sign(%{kid: kid, key: key}, claims) do
    header = Json.encode(%{"alg" => "RS256", "typ" => "JWT", "kid" => kid})
    input = b64(header) <> "." <> b64(Json.encode(claims))
    input <> "." <> b64(:public_key.sign(input, :sha256, key))
  end

  defp b64(bytes), do: Base.url_encode64(bytes, padding: false)

  ## Servers

  defp start_httpd(modules, props) do
    root = String.to_charlist(System.tmp_dir!())

    {:ok, pid} =
      :inets.start(
        :httpd,
        [
          port: 0,
          bind_address: {127, 0, 0, 1},
          # httpd writes head and body apart: without nodelay, Nagle and
          # delayed ACKs add 40 ms to every response on a kept-alive connection.
          socket_type: {:ip_comm, [nodelay: true]},
          server_name: ~c"jwks-verify-demo",
          server_root: root,
          document_root: root,
          modules: modules
        ] ++ props
      )

    pid
  end

  defp port(httpd), do: :httpd.info(httpd, [:port])[:port]
end

defmodule JwksVerify.Demo.Issuer do
  @moduledoc false
  # The demo issuer: an httpd module serving the JWKS the demo holds in an
  # agent (named in the httpd config), and counting the requests.
  require Record
  Record.defrecordp(:mod, Record.extract(:mod, from_lib: "inets/include/httpd.hrl"))

  def unquote(:do)(mod(config_db: db, request_uri: uri)) do
    if uri == ~c"/.well-known/jwks.json" do
      agent = :httpd_util.lookup(db, :jwks_verify_demo)
      body = Agent.get_and_update(agent, fn s -> {s.jwks, %{s | hits: s.hits + 1}} end)
      JwksVerify.Demo.Api.reply(200, body)
    else
      JwksVerify.Demo.Api.reply(404, ~s({"error":"not found"}))
    end
  end
end

defmodule JwksVerify.Demo.Api do
  @moduledoc false
  # The demo API, the httpd module after :jwks_verify_httpd: it only runs for
  # requests the guard let through, and reads the claims the guard passed on.
  require Record
  Record.defrecordp(:mod, Record.extract(:mod, from_lib: "inets/include/httpd.hrl"))

  alias JwksVerify.Demo.Json

  def unquote(:do)(mod(request_uri: uri, data: data) = m) do
    if List.keymember?(data, :response, 0) do
      {:proceed, data}
    else
      case uri |> List.to_string() |> String.split("?") |> hd() do
        "/public" ->
          reply(200, Json.encode(%{"message" => "Public content"}))

        "/api/protected" ->
          user = :jwks_verify_httpd.claims(m)
          reply(200, Json.encode(%{"message" => "Access granted", "user" => user}))

        _ ->
          reply(404, ~s({"error":"not found"}))
      end
    end
  end

  @doc false
  def reply(status, body) do
    head = [
      code: status,
      content_type: ~c"application/json",
      content_length: Integer.to_charlist(byte_size(body))
    ]

    {:proceed, [response: {:response, head, [body]}]}
  end
end

defmodule JwksVerify.Demo.Json do
  @moduledoc false
  # The JSON the demo writes (JWKS, token parts, API answers): maps with
  # string keys (sorted), lists, strings, integers, booleans, nil/:null.
  # Strings are escaped for `"`, `\` and control characters only.

  def encode(term), do: IO.iodata_to_binary(json(term))

  defp json(true), do: "true"
  defp json(false), do: "false"
  defp json(nil), do: "null"
  defp json(:null), do: "null"
  defp json(i) when is_integer(i), do: Integer.to_string(i)
  defp json(f) when is_float(f), do: :erlang.float_to_binary(f, [:short])
  defp json(s) when is_binary(s), do: [?", Enum.map(:binary.bin_to_list(s), &char/1), ?"]
  defp json(l) when is_list(l), do: [?[, Enum.map_intersperse(l, ?,, &json/1), ?]]

  defp json(m) when is_map(m) do
    [
      ?{,
      m |> Enum.sort() |> Enum.map_intersperse(?,, fn {k, v} -> [json(k), ?:, json(v)] end),
      ?}
    ]
  end

  defp char(?"), do: "\\\""
  defp char(?\\), do: "\\\\"
  defp char(c) when c < 0x20, do: :io_lib.format("\\u~4.16.0B", [c])
  defp char(c), do: c
end
