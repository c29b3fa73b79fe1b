defmodule JwksVerify.PlugTestHelpers do
  @moduledoc """
  What the Plug, httpd-adapter, CLI and demo tests share: RS256 tokens with
  the usual claims (signed by `:public_key` through `JwksVerify.TokenHelpers`;
  `iss`, `aud` and `sub` are `JwksVerify.Test`'s defaults, which the tests
  configure guards with, as users' tests do), and real HTTP servers on
  127.0.0.1 made with OTP's `:httpd`:

    * `start_issuer/1` serves a JWKS at `/.well-known/jwks.json` that the test
      can replace (`publish/2`) and counts the requests it gets;
    * `start_api/1` serves `/public` and `/api/protected` behind
      `:jwks_verify_httpd`.
  """

  import JwksVerify.TokenHelpers

  @doc "`JwksVerify.Test.iss/0`: the issuer the tests' tokens carry."
  defdelegate iss(), to: JwksVerify.Test

  @doc "`JwksVerify.Test.aud/0`: the audience the tests' tokens carry."
  defdelegate aud(), to: JwksVerify.Test

  @doc "Seconds since the epoch."
  def now, do: System.system_time(:second)

  @doc "Claims a valid token carries: iss, aud, sub, iat, exp (in 5 minutes), merged with `extra`."
  def claims(extra \\ %{}) do
    Map.merge(
      %{
        "iss" => iss(),
        "aud" => aud(),
        "sub" => JwksVerify.Test.sub(),
        "iat" => now(),
        "exp" => now() + 300
      },
      extra
    )
  end

  @doc "An RS256 token with `kid`, signed by `key`."
  def rs256(key, kid, claims), do: token(key, "RS256", claims, %{"kid" => kid})

  @doc "A JWKS document (JSON) with the public halves of `[{key, kid}]`."
  def jwks_for(keys) do
    jwks_json(for {key, kid} <- keys, do: public_jwk(key, %{"kid" => kid, "alg" => "RS256"}))
  end

  @doc "Request headers the way Plug gives them."
  def bearer_headers(token), do: [{"authorization", "Bearer " <> token}]

  ## Servers

  @doc """
  Starts `:httpd` on 127.0.0.1 (an ephemeral port) with `modules` and extra
  `props`; returns `{pid, port}`.
  """
  def start_httpd(modules, props \\ []) do
    {:ok, _} = Application.ensure_all_started(:inets)
    dir = System.tmp_dir!()

    {:ok, pid} =
      :inets.start(
        :httpd,
        [
          port: 0,
          bind_address: {127, 0, 0, 1},
          # httpd writes head and body apart: without nodelay, Nagle and
          # delayed ACKs add 40 ms to every response on a kept-alive connection.
          socket_type: {:ip_comm, [nodelay: true]},
          server_name: ~c"jwks-verify-test",
          server_root: String.to_charlist(dir),
          document_root: String.to_charlist(dir),
          modules: modules
        ] ++ props
      )

    [port: port] = :httpd.info(pid, [:port])
    {pid, port}
  end

  def stop_httpd({pid, _port}), do: :inets.stop(:httpd, pid)

  @doc "Starts an issuer serving `jwks` (JSON); returns `%{url: ..., server: ..., state: agent}`."
  def start_issuer(jwks) do
    {:ok, agent} = Agent.start(fn -> %{jwks: jwks, status: 200, hits: 0} end)
    server = start_httpd([JwksVerify.PlugTestHelpers.Issuer], jwks_test_state: agent)

    %{
      url: "http://127.0.0.1:#{elem(server, 1)}/.well-known/jwks.json",
      server: server,
      state: agent
    }
  end

  @doc "What the issuer serves from now on."
  def publish(%{state: agent}, jwks), do: Agent.update(agent, &%{&1 | jwks: jwks})

  @doc "The status the issuer answers with from now on (200, or 500 to fail)."
  def set_status(%{state: agent}, status), do: Agent.update(agent, &%{&1 | status: status})

  @doc "How many requests the issuer has had."
  def hits(%{state: agent}), do: Agent.get(agent, & &1.hits)

  def stop_issuer(%{server: server, state: agent}) do
    stop_httpd(server)
    Agent.stop(agent)
  end

  @doc "A protected API behind `:jwks_verify_httpd` with `opts`; returns `%{base: url, server: ...}`."
  def start_api(opts) do
    server = start_httpd([:jwks_verify_httpd, JwksVerify.PlugTestHelpers.Api], jwks_verify: opts)
    %{base: "http://127.0.0.1:#{elem(server, 1)}", server: server}
  end

  @doc "GET with `:httpc`: `{status, headers (lowercase names), body}`."
  def get(url, headers \\ []) do
    headers = for {k, v} <- headers, do: {String.to_charlist(k), String.to_charlist(v)}

    {:ok, {{_, status, _}, resp_headers, body}} =
      :httpc.request(:get, {String.to_charlist(url), headers}, [timeout: 5_000],
        body_format: :binary
      )

    {status, for({k, v} <- resp_headers, do: {List.to_string(k), List.to_string(v)}), body}
  end

  @doc """
  Sends `request` (raw HTTP/1.1, for what `:httpc` won't send, such as two
  `authorization` headers) to 127.0.0.1:`port`; returns `{status, raw_response}`.
  """
  def raw_request(port, request) do
    {:ok, socket} = :gen_tcp.connect({127, 0, 0, 1}, port, [:binary, active: false])
    :ok = :gen_tcp.send(socket, request)
    response = recv_all(socket, "")
    :gen_tcp.close(socket)
    "HTTP/1.1 " <> <<status::binary-size(3), _::binary>> = response
    {String.to_integer(status), response}
  end

  defp recv_all(socket, acc) do
    case :gen_tcp.recv(socket, 0, 5_000) do
      {:ok, data} -> recv_all(socket, acc <> data)
      {:error, :closed} -> acc
    end
  end

  @doc "Polls `fun` every 10 ms until it returns a truthy value, at most `ms`."
  def eventually(fun, ms \\ 5_000) do
    deadline = System.monotonic_time(:millisecond) + ms
    poll(fun, deadline)
  end

  defp poll(fun, deadline) do
    cond do
      result = fun.() ->
        result

      System.monotonic_time(:millisecond) > deadline ->
        raise "condition not met in time"

      true ->
        Process.sleep(10)
        poll(fun, deadline)
    end
  end
end

defmodule JwksVerify.PlugTestHelpers.Issuer do
  @moduledoc false
  # An httpd module serving the JWKS held by the agent in the config.
  require Record
  Record.defrecordp(:mod, Record.extract(:mod, from_lib: "inets/include/httpd.hrl"))

  def unquote(:do)(mod(config_db: db)) do
    agent = :httpd_util.lookup(db, :jwks_test_state)
    state = Agent.get_and_update(agent, fn s -> {s, %{s | hits: s.hits + 1}} end)
    body = state.jwks

    head = [
      code: state.status,
      content_type: ~c"application/json",
      content_length: Integer.to_charlist(byte_size(body))
    ]

    {:proceed, [response: {:response, head, [body]}]}
  end
end

defmodule JwksVerify.PlugTestHelpers.Api do
  @moduledoc false
  # The handler behind :jwks_verify_httpd: /public, and /api/protected
  # answering the claims the guard passed on.
  require Record
  Record.defrecordp(:mod, Record.extract(:mod, from_lib: "inets/include/httpd.hrl"))

  def unquote(:do)(mod(request_uri: uri, data: data) = m) do
    if List.keymember?(data, :response, 0) do
      {:proceed, data}
    else
      path = uri |> List.to_string() |> String.split("?") |> hd()

      case path do
        "/public" -> reply(200, %{"message" => "public"})
        "/api/protected" -> reply(200, %{"user" => :jwks_verify_httpd.claims(m)})
        _ -> reply(404, %{"error" => "not found"})
      end
    end
  end

  defp reply(status, map) do
    body = :jiffy.encode(map)

    head = [
      code: status,
      content_type: ~c"application/json",
      content_length: Integer.to_charlist(byte_size(body))
    ]

    {:proceed, [response: {:response, head, [body]}]}
  end
end
