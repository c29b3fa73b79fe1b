# Guards the README's examples that start things: the "Plain Erlang and OTP's
# httpd" section and the "JWKS cache" section. Their `erlang` and `elixir`
# blocks are extracted from README.md and run as written on this OTP (the
# httpd example once crashed on OTP 25 in http_transport:listen/4; the cache
# examples once failed at boot with jwks_unavailable). Module blocks are
# compiled from the README text, the others evaluated with erl_eval or
# Code.eval_string. Substitutions: when port 8080 is taken on this machine,
# `{port, 8080}` becomes a free port; the cache examples' issuer URL
# (issuer.example is reserved and never answers; tenant.example.com in the
# discovery example, which then serves its metadata) becomes an HTTPS issuer on
# localhost, whose test CA stands in for the system CA store
# (public_key:cacerts_load/1), so the examples' TLS defaults run unchanged.
# Then requests go to the API as a client would send them; tokens are signed
# by :public_key (test/support). The "Phoenix" section's router snippets need
# Phoenix, which is not here: the options of each `plug JwksVerify.Plug` in
# them go through init/1 instead; the "Command line" section's verdict is the
# task's output.
defmodule JwksVerify.ReadmeTest do
  use ExUnit.Case, async: false

  import JwksVerify.TokenHelpers
  import JwksVerify.PlugTestHelpers, only: [get: 1, get: 2, bearer_headers: 1, now: 0]

  @moduletag :capture_log

  @readme Path.expand("../README.md", __DIR__)
  @section "## Plain Erlang and OTP's httpd"
  @port 8080
  @iss "https://issuer.example/"
  @aud "my-api"

  # The fences of a language between the section's heading and the next one.
  defp blocks(section \\ @section, lang \\ "erlang") do
    [_, rest] = String.split(File.read!(@readme), "\n" <> section <> "\n", parts: 2)
    section = rest |> String.split("\n## ", parts: 2) |> hd()
    for [_, code] <- Regex.scan(~r/^```#{lang}\n(.*?)^```$/ms, section), do: code
  end

  defp compile_module(code, dir) do
    [_, name] = Regex.run(~r/^-module\(([a-z_]+)\)\./m, code)
    path = Path.join(dir, name <> ".erl")
    File.write!(path, code)

    {:ok, module, beam, warnings} =
      :compile.file(String.to_charlist(path), [:binary, :return_errors, :return_warnings])

    assert warnings == [], inspect(warnings)
    {:module, ^module} = :code.load_binary(module, String.to_charlist(path), beam)
    module
  end

  defp eval(code, bindings \\ :erl_eval.new_bindings()) do
    {:ok, tokens, _} = :erl_scan.string(String.to_charlist(code))
    {:ok, exprs} = :erl_parse.parse_exprs(tokens)
    {:value, _value, bindings} = :erl_eval.exprs(exprs, bindings)
    bindings
  end

  # The README's port, or a free one when something else holds it.
  defp port do
    case :gen_tcp.listen(@port, ip: {127, 0, 0, 1}, reuseaddr: true) do
      {:ok, socket} ->
        :gen_tcp.close(socket)
        @port

      {:error, :eaddrinuse} ->
        {:ok, socket} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
        {:ok, port} = :inet.port(socket)
        :gen_tcp.close(socket)
        port
    end
  end

  test "the httpd example runs as written and guards its routes" do
    dir = tmp_dir!("jwks_verify_readme")
    blocks = blocks()
    assert length(blocks) == 2
    {modules, [setup]} = Enum.split_with(blocks, &(&1 =~ ~r/^-module\(/m))
    assert [:my_api] = Enum.map(modules, &compile_module(&1, dir))
    assert setup =~ "{port, #{@port}}"

    port = port()
    bindings = eval(String.replace(setup, "{port, #{@port}}", "{port, #{port}}"))
    {:value, httpd} = :erl_eval.binding(:Httpd, bindings)

    on_exit(fn ->
      :inets.stop(:httpd, httpd)
      if Process.whereis(:my_jwks), do: :jwks_verify_cache.stop(:my_jwks)
    end)

    base = "http://127.0.0.1:#{port}"
    key = rsa_key()
    token = rs256(key, %{"sub" => "alice"})

    assert {200, _, "public"} = get(base <> "/public")
    assert {401, headers, body} = get(base <> "/api/me")
    assert {"www-authenticate", "Bearer"} in headers
    assert body == ~s({"error":"Unauthorized","details":"missing bearer token"})

    # issuer.example never answers (the .example domain is reserved): the
    # cache has no key set, and a token can't be checked.
    assert {503, _, ~s({"error":"Service Unavailable","details":"jwks unavailable"})} =
             get(base <> "/api/me", bearer_headers(token))

    # The guard looks the cache up by name on each request: a cache of the
    # same name with the issuer's keys makes the same server verify tokens.
    :ok = :jwks_verify_cache.stop(:my_jwks)
    json = jwks_json([public_jwk(key, %{"kid" => "k1", "alg" => "RS256"})])
    {:ok, _} = :jwks_verify_cache.start_link(:my_jwks, %{jwks: json})

    assert {200, _, "hello alice"} = get(base <> "/api/me", bearer_headers(token))

    for {claims, details} <- [
          {%{"exp" => now() - 60}, "token expired"},
          {%{"aud" => "other-api"}, "invalid audience"},
          {%{"iss" => "https://evil.test/"}, "invalid issuer"}
        ] do
      assert {401, headers, _} = get(base <> "/api/me", bearer_headers(rs256(key, claims)))

      assert {"www-authenticate",
              ~s(Bearer error="invalid_token", error_description="#{details}")} in headers
    end

    assert {400, _, _} = get(base <> "/api/me", [{"authorization", "Bearer"}])
  end

  # The README's Phoenix section: its router snippets can't run here (no
  # Phoenix), but every `plug JwksVerify.Plug, ...` in it must be options
  # that JwksVerify.Plug.init/1 takes, and the public path must be written
  # as the full request path its `scope "/api"` routes to.
  describe "the Phoenix section" do
    defp phoenix_plug_options do
      [_, rest] = String.split(File.read!(@readme), "\n## Phoenix\n", parts: 2)
      section = rest |> String.split("\n## ", parts: 2) |> hd()

      for [_, opts] <- Regex.scan(~r/^  plug JwksVerify\.Plug,\n(.*?)\n^end$/ms, section) do
        {opts, []} = Code.eval_string("[" <> opts <> "]")
        opts
      end
    end

    test "every plug's options are taken by JwksVerify.Plug.init/1" do
      all = phoenix_plug_options()
      assert length(all) >= 2

      for opts <- all do
        config = JwksVerify.Plug.init(opts)
        assert config == :jwks_verify_guard.init(opts)
      end
    end

    test "the public path is the full request path of the scope's route" do
      [opts | _] = phoenix_plug_options()
      assert opts[:public_paths] == ["/api/health"]
      config = JwksVerify.Plug.init(opts)
      # The cache is not running: a public path is decided before it is looked up.
      assert :jwks_verify_guard.check(config, [], "/api/health") == :skip
      assert {:error, :missing_token} = :jwks_verify_guard.check(config, [], "/api/protected")
      assert {:error, :missing_token} = :jwks_verify_guard.check(config, [], "/health")
    end
  end

  # The verdict the "Command line" section shows is what the task prints for
  # a token that expired at the time it names, 3 h 12 min before --now.
  test "the command line's verdict example is the task's output" do
    [_, rest] = String.split(File.read!(@readme), "\n## Command line", parts: 2)
    section = rest |> String.split("\n## ", parts: 2) |> hd()
    [_, shown] = Regex.run(~r/^```\n(Verdict\n.*?)^```$/ms, section)
    [_, iso] = Regex.run(~r/\(exp (\S+)\)/, shown)
    {:ok, at, 0} = DateTime.from_iso8601(iso)
    exp = DateTime.to_unix(at)

    key = rsa_key()
    dir = tmp_dir!("jwks_verify_readme_cli")
    jwks = Path.join(dir, "jwks.json")
    File.write!(jwks, jwks_json([public_jwk(key, %{"kid" => "k1", "alg" => "RS256"})]))
    token = rs256(key, %{"iat" => exp - 600, "exp" => exp})
    args = [token, "--jwks", jwks, "--now", "#{exp + 3 * 3600 + 12 * 60}"]

    out =
      ExUnit.CaptureIO.capture_io(fn ->
        assert catch_exit(Mix.Tasks.JwksVerify.Verify.run(args)) == {:shutdown, 1}
      end)

    assert [_, verdict] = String.split(out, ~r/^(?=Verdict\n)/m, parts: 2)
    assert verdict == shown
  end

  defp rs256(key, extra) do
    claims = Map.merge(%{"iss" => @iss, "aud" => @aud, "exp" => now() + 300}, extra)
    token(key, "RS256", claims, %{"kid" => "k1"})
  end

  # A fresh directory under the system's temporary directory, removed on exit.
  defp tmp_dir!(prefix) do
    dir = Path.join(System.tmp_dir!(), "#{prefix}_#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)
    dir
  end

  describe "the JWKS cache section" do
    @cache_section "## JWKS cache"
    @jwks_uri "https://issuer.example/.well-known/jwks.json"

    setup do
      dir = tmp_dir!("jwks_verify_readme_cache")
      certs = JwksVerify.CacheTestHelpers.make_certs(dir)
      # The test CA is the system CA store while the examples run.
      :ok = :public_key.cacerts_load(String.to_charlist(Path.join(dir, "ca.pem")))
      on_exit(fn -> :public_key.cacerts_clear() end)

      key = rsa_key()
      issuer = JwksVerify.TestServer.start(tls: certs.localhost)
      on_exit(fn -> JwksVerify.TestServer.stop(issuer) end)
      jwks = jwks_json([public_jwk(key, %{"kid" => "k1", "alg" => "RS256"})])
      # Slow enough that the examples verify while the first fetch is under way.
      JwksVerify.TestServer.set(issuer, jwks: jwks, delay: 300)
      url = JwksVerify.TestServer.url(issuer, "/.well-known/jwks.json")
      %{issuer: issuer, url: url, key: key, token: rs256(key, %{"sub" => "alice"})}
    end

    test "the Elixir example starts a cache and verifies at once, as written", ctx do
      assert [code] = Enum.filter(blocks(@cache_section, "elixir"), &(&1 =~ @jwks_uri))
      assert code =~ @jwks_uri
      links = Process.info(self(), :links) |> elem(1)

      on_exit(fn ->
        if pid = Process.whereis(MyApp.Jwks), do: Process.exit(pid, :kill)
      end)

      {_, binding} = Code.eval_string(String.replace(code, @jwks_uri, ctx.url), token: ctx.token)

      [sup] = (Process.info(self(), :links) |> elem(1)) -- links
      assert %{"sub" => "alice"} = binding[:claims]
      assert JwksVerify.TestServer.count(ctx.issuer) == 1
      Supervisor.stop(sup)
    end

    test "the Erlang example starts a cache and verifies at once, as written", ctx do
      assert [code] = blocks(@cache_section, "erlang")
      assert code =~ @jwks_uri
      on_exit(fn -> if Process.whereis(:my_jwks), do: :jwks_verify_cache.stop(:my_jwks) end)

      bindings =
        eval(
          String.replace(code, @jwks_uri, ctx.url),
          :erl_eval.add_binding(:Token, ctx.token, :erl_eval.new_bindings())
        )

      assert {:value, %{"sub" => "alice"}} = :erl_eval.binding(:Claims, bindings)
      assert JwksVerify.TestServer.count(ctx.issuer) == 1
      :ok = :jwks_verify_cache.stop(:my_jwks)
    end

    # The issuer tenant.example.com becomes the localhost issuer, which
    # publishes its metadata at the OpenID Connect Discovery location.
    test "the discovery example starts a cache from its issuer and verifies, as written", ctx do
      assert [code] = Enum.filter(blocks(@cache_section, "elixir"), &(&1 =~ "issuer: "))
      issuer = "https://localhost:#{ctx.issuer.port}/"
      doc = ~s({"issuer":"#{issuer}","jwks_uri":"#{ctx.url}","response_types_supported":["code"]})

      JwksVerify.TestServer.set(ctx.issuer,
        routes: %{"/.well-known/openid-configuration" => [jwks: doc]}
      )

      on_exit(fn ->
        if pid = Process.whereis(MyApp.Tenant), do: Process.exit(pid, :kill)
      end)

      links = Process.info(self(), :links) |> elem(1)
      token = rs256(ctx.key, %{"iss" => issuer})
      wrong = rs256(ctx.key, %{"iss" => "https://elsewhere.example/"})
      code = String.replace(code, "https://tenant.example.com/", issuer)
      {_, binding} = Code.eval_string(code, token: token)

      [sup] = (Process.info(self(), :links) |> elem(1)) -- links
      assert %{"iss" => ^issuer} = binding[:claims]
      assert {:error, :invalid_issuer} = JwksVerify.verify(wrong, MyApp.Tenant, aud: @aud)

      assert Enum.map(JwksVerify.TestServer.requests(ctx.issuer), & &1.path) ==
               ["/.well-known/openid-configuration", "/.well-known/jwks.json"]

      Supervisor.stop(sup)
    end
  end
end

# Guards the README's "Testing your app" section: its ExUnit controller test
# runs as written, by ExUnit, in a separate `elixir` (this suite's ExUnit is
# busy running us) on this build's ebin. Phoenix is not installed, so
# stand-ins take its place: MyAppWeb.ConnCase (a plain-map conn, importing
# put_req_header/3, get/2 and json_response/2), a Plug.Conn with the three
# functions involved, and a router that sends GET /api/protected through
# JwksVerify.Plug with the options of the README's Phoenix router, then to
# the README's ProtectedController. Its EUnit module is compiled from the
# README text and run with eunit:test/2.
defmodule JwksVerify.ReadmeTestingTest do
  use ExUnit.Case, async: false

  @moduletag :capture_log

  @readme Path.expand("../README.md", __DIR__)

  defp section(heading) do
    [_, rest] = String.split(File.read!(@readme), "\n" <> heading <> "\n", parts: 2)
    rest |> String.split("\n## ", parts: 2) |> hd()
  end

  defp blocks(section, lang) do
    for [_, code] <- Regex.scan(~r/^```#{lang}\n(.*?)^```$/ms, section), do: code
  end

  defp block_with(section, lang, text) do
    [code] = Enum.filter(blocks(section, lang), &String.contains?(&1, text))
    code
  end

  # The keyword list of `plug JwksVerify.Plug, ...` in the Phoenix router block.
  defp router_plug_opts do
    # The first router block: the one the section opens with.
    router =
      section("## Phoenix")
      |> blocks("elixir")
      |> Enum.find(&String.contains?(&1, "plug JwksVerify.Plug,"))

    [_, opts] = Regex.run(~r/plug JwksVerify\.Plug,\n(.*?)\n(?:end|\s*plug )/s, router)
    {opts, _} = Code.eval_string("[" <> opts <> "]")
    opts
  end

  @stand_ins ~S'''
  ExUnit.start(autorun: false)
  {:ok, _} = Application.ensure_all_started(:jwks_verify)

  # Plug.Conn's functions that ConnCase imports and JwksVerify.Plug's default
  # refusal calls, on a plain map.
  defmodule Plug.Conn do
    def put_req_header(conn, key, value),
      do: %{conn | req_headers: List.keystore(conn.req_headers, key, 0, {key, value})}

    def merge_resp_headers(conn, headers), do: %{conn | resp_headers: conn.resp_headers ++ headers}
    def send_resp(conn, status, body), do: %{conn | status: status, resp_body: body, state: :sent}
  end

  defmodule MyAppWeb do
    defmacro __using__(:controller) do
      quote do
        def json(conn, data),
          do: %{conn | status: 200, resp_body: IO.iodata_to_binary(:jiffy.encode(data))}
      end
    end
  end

  defmodule MyAppWeb.Router do
    import ExUnit.Assertions

    def get(conn, "/api/protected" = path) do
      conn = %{conn | method: "GET", request_path: path}
      conn = JwksVerify.Plug.call(conn, JwksVerify.Plug.init(ROUTER_OPTS))
      if conn.halted, do: conn, else: MyAppWeb.ProtectedController.show(conn, %{})
    end

    def json_response(conn, status) do
      assert conn.status == status
      :jiffy.decode(conn.resp_body, [:return_maps])
    end
  end

  defmodule MyAppWeb.ConnCase do
    use ExUnit.CaseTemplate

    using do
      quote do
        import Plug.Conn, only: [put_req_header: 3]
        import MyAppWeb.Router
      end
    end

    setup do
      conn = %{method: nil, request_path: "/", req_headers: [], assigns: %{}, halted: false,
               status: nil, resp_headers: [], resp_body: nil, state: :unset}
      %{conn: conn}
    end
  end
  '''

  test "the ExUnit controller test runs as written against JwksVerify.Plug" do
    testing = section("## Testing your app")
    test_module = block_with(testing, "elixir", "defmodule MyAppWeb.ProtectedControllerTest")

    controller =
      block_with(section("## Phoenix"), "elixir", "defmodule MyAppWeb.ProtectedController")

    # The issuer in the example must fit the router's Plug, as the text says.
    opts = router_plug_opts()
    assert opts[:cache] == MyApp.Jwks

    assert test_module =~
             "name: MyApp.Jwks, iss: #{inspect(opts[:iss])}, aud: #{inspect(opts[:aud])}"

    assert test_module =~ ~s|conn = put_req_header(conn, "authorization", "Bearer " <> token)|
    tests = length(Regex.scan(~r/^  test "/m, test_module))
    assert tests == 2

    script =
      Enum.join(
        [
          String.replace(@stand_ins, "ROUTER_OPTS", inspect(opts)),
          controller,
          test_module,
          ~s|%{total: total, failures: failures} = ExUnit.run()\n| <>
            ~s|IO.puts("README tests: \#{total} run, \#{failures} failed")\n| <>
            ~s|System.halt(if failures == 0, do: 0, else: 1)\n|
        ],
        "\n"
      )

    dir = Path.join(System.tmp_dir!(), "jwks_verify_readme_#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)
    path = Path.join(dir, "controller_test.exs")
    File.write!(path, script)

    ebin = :code.lib_dir(:jwks_verify, :ebin) |> to_string()
    {out, status} = System.cmd("elixir", ["-pa", ebin, path], stderr_to_stdout: true)
    assert status == 0, out
    assert out =~ "README tests: #{tests} run, 0 failed", out
  end

  test "the EUnit module runs as written with the guard the httpd example configures" do
    erlang = block_with(section("## Testing your app"), "erlang", "-module(my_api_tests).")

    # The guard options are those the httpd example gives jwks_verify_httpd.
    httpd = block_with(section("## Plain Erlang and OTP's httpd"), "erlang", "inets:start(httpd")

    [_, cache, iss, aud] =
      Regex.run(
        ~r/\{jwks_verify, \[\{cache, (\w+)\},\s*\{iss, (<<"[^"]+">>)\},\s*\{aud, (<<"[^"]+">>)\}/,
        httpd
      )

    assert erlang =~
             ~r/\{cache, #{cache}\},\s*\{iss, #{Regex.escape(iss)}\},\s*\{aud, #{Regex.escape(aud)}\}/

    dir = Path.join(System.tmp_dir!(), "jwks_verify_readme_#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)
    path = Path.join(dir, "my_api_tests.erl")
    File.write!(path, erlang)

    {:ok, :my_api_tests, beam, warnings} =
      :compile.file(String.to_charlist(path), [:binary, :return_errors, :return_warnings])

    assert warnings == [], inspect(warnings)
    {:module, :my_api_tests} = :code.load_binary(:my_api_tests, String.to_charlist(path), beam)
    on_exit(fn -> :code.purge(:my_api_tests) && :code.delete(:my_api_tests) end)

    output = ExUnit.CaptureIO.capture_io(fn -> assert :eunit.test(:my_api_tests, []) == :ok end)
    assert output =~ "2 tests passed.", output
    assert Process.whereis(:my_jwks) == nil
  end
end
