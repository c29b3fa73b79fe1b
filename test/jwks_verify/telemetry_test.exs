# Guards the telemetry events (issue 14): every event the cache and the guard
# emit, with its name, measurement keys and metadata keys as the README's
# Telemetry section lists them (checked against the README too); the guard's
# outcome, reason, status and cache for each kind of decision; no token,
# claims or request data in any metadata; and jwks_verify without telemetry
# at all. telemetry cannot be installed here (no hex.pm): the tests load the
# stand-in test/support/telemetry.erl through JwksVerify.TelemetryHelpers, and
# call only the library's API, so they run unchanged with the real one.
# Caches fetch from a real HTTP server on 127.0.0.1; tokens are signed by
# OTP's :public_key.
defmodule JwksVerify.TelemetryTest do
  use ExUnit.Case, async: false

  import JwksVerify.CacheTestHelpers,
    only: [
      key: 1,
      jwks: 1,
      token: 1,
      token: 2,
      eventually: 1,
      cache: 1,
      http_cache: 1,
      http_cache: 2
    ]

  import JwksVerify.TelemetryHelpers

  alias :jwks_verify_guard, as: Guard
  alias JwksVerify.Cache
  alias JwksVerify.TestServer

  @moduletag :capture_log

  # Event => {measurement keys, metadata keys}: what the README documents.
  @events %{
    [:jwks_verify, :guard, :stop] =>
      {[:duration, :monotonic_time], [:cache, :outcome, :reason, :status]},
    [:jwks_verify, :guard, :exception] =>
      {[:duration, :monotonic_time], [:cache, :kind, :reason, :stacktrace]},
    [:jwks_verify, :cache, :fetch, :start] => {[:system_time], [:kind, :name, :uri]},
    [:jwks_verify, :cache, :fetch, :stop] =>
      {[:bytes, :duration], [:kids_added, :kids_removed, :kind, :name, :status, :uri]},
    [:jwks_verify, :cache, :fetch, :exception] => {[:duration], [:kind, :name, :reason, :uri]},
    [:jwks_verify, :cache, :kid_miss] => {[:count], [:name]},
    [:jwks_verify, :cache, :refetch_suppressed] => {[:count], [:name, :reason]},
    [:jwks_verify, :cache, :stale_served] => {[:count], [:age, :name]}
  }

  setup_all do
    ensure!()

    %{a: key("key-a"), b: key("key-b")}
  end

  setup do
    record(Map.keys(@events))
    :ok
  end

  # The next `event` matching `pattern` (a metadata subset), with exactly the
  # documented keys; answers {measurements, metadata}.
  # `emitter` matches the emitting process.
  defmacrop event(event, pattern \\ quote(do: %{}), emitter \\ quote(do: _)) do
    quote do
      assert_receive {:telemetry, unquote(event), m, unquote(pattern) = meta, unquote(emitter)},
                     5_000

      {keys, meta_keys} = Map.fetch!(@events, unquote(event))
      assert Enum.sort(Map.keys(m)) == keys
      assert Enum.sort(Map.keys(meta)) == meta_keys
      {m, meta}
    end
  end

  defp server(keys) do
    s = TestServer.start()
    on_exit(fn -> TestServer.stop(s) end)
    TestServer.set(s, jwks: jwks(keys))
    s
  end

  defp junk(base, kid) do
    [_, payload, sig] = String.split(base, ".")
    header = Base.url_encode64(~s({"alg":"RS256","kid":"#{kid}"}), padding: false)
    Enum.join([header, payload, sig], ".")
  end

  defp refute_data(meta, token) do
    text = inspect(meta, limit: :infinity, printable_limit: :infinity)
    for part <- String.split(token, "."), do: refute(text =~ part)
    refute text =~ "user-1"
  end

  describe "cache fetches" do
    test "start and stop, 200 then 304, with the kids that changed", ctx do
      s = server([ctx.a])
      TestServer.set(s, etag: ~s("v1"))
      name = http_cache(s)
      uri = TestServer.url(s)

      {m, meta} = event([:jwks_verify, :cache, :fetch, :start], %{name: ^name, kind: :initial})
      assert is_integer(m.system_time)
      assert meta.uri == uri

      {m, meta} = event([:jwks_verify, :cache, :fetch, :stop], %{name: ^name, status: 200})
      assert %{kind: :initial, kids_added: ["key-a"], kids_removed: [], uri: ^uri} = meta
      assert is_integer(m.duration) and m.duration >= 0
      assert m.bytes == byte_size(jwks([ctx.a]))

      assert :ok = Cache.refresh(name)
      event([:jwks_verify, :cache, :fetch, :start], %{name: ^name, kind: :manual})
      {m, meta} = event([:jwks_verify, :cache, :fetch, :stop], %{name: ^name, status: 304})
      assert %{kids_added: [], kids_removed: []} = meta
      assert m.bytes == 0

      TestServer.set(s, jwks: jwks([ctx.b]), etag: ~s("v2"))
      assert :ok = Cache.refresh(name)
      {_, meta} = event([:jwks_verify, :cache, :fetch, :stop], %{name: ^name, status: 200})
      assert %{kids_added: ["key-b"], kids_removed: ["key-a"]} = meta
    end

    test "a failed fetch is fetch.exception with its reason", ctx do
      s = server([ctx.a])
      TestServer.set(s, mode: {:status, 500})
      name = cache(jwks_uri: TestServer.url(s), allow_http: true, backoff_initial: 60_000)

      event([:jwks_verify, :cache, :fetch, :start], %{name: ^name, kind: :initial})

      {m, meta} = event([:jwks_verify, :cache, :fetch, :exception], %{name: ^name})
      assert %{kind: :initial, reason: {:http_status, 500}} = meta
      assert is_integer(m.duration) and m.duration >= 0
      refute_received {:telemetry, [:jwks_verify, :cache, :fetch, :stop], _, %{name: ^name}, _}
    end
  end

  describe "cache kid misses" do
    test "kid_miss, and refetch_suppressed while the refetch budget is spent", ctx do
      s = server([ctx.a])
      name = http_cache(s, refetch_interval: 60_000)
      base = token(ctx.a)
      event([:jwks_verify, :cache, :fetch, :stop], %{name: ^name, kind: :initial})

      # The first miss refetches.
      assert {:error, :unknown_kid} = JwksVerify.verify(junk(base, "junk-1"), name, [])
      {m, _} = event([:jwks_verify, :cache, :kid_miss], %{name: ^name})
      assert m.count == 1
      event([:jwks_verify, :cache, :fetch, :stop], %{name: ^name, kind: :kid_miss})

      # The second, inside the interval: the cache process queues a refetch.
      assert {:error, :unknown_kid} = JwksVerify.verify(junk(base, "junk-2"), name, [])
      event([:jwks_verify, :cache, :kid_miss], %{name: ^name})

      {m, _} =
        event([:jwks_verify, :cache, :refetch_suppressed], %{name: ^name, reason: :rate_limited})

      assert m.count == 1

      # The third: the caller sees the queued refetch and does not ask.
      assert {:error, :unknown_kid} = JwksVerify.verify(junk(base, "junk-3"), name, [])
      me = self()

      event(
        [:jwks_verify, :cache, :refetch_suppressed],
        %{name: ^name, reason: :rate_limited},
        ^me
      )

      refute_received {:telemetry, [:jwks_verify, :cache, :kid_miss], _, %{name: ^name}, _}
    end

    test "refetch_suppressed for a negative kid", ctx do
      s = server([ctx.a])
      name = http_cache(s, refetch_interval: 5_000)
      tok = junk(token(ctx.a), "never-published")

      assert {:error, :unknown_kid} = JwksVerify.verify(tok, name, [])
      event([:jwks_verify, :cache, :kid_miss], %{name: ^name})
      event([:jwks_verify, :cache, :fetch, :stop], %{name: ^name, kind: :kid_miss})

      assert {:error, :unknown_kid} = JwksVerify.verify(tok, name, [])
      event([:jwks_verify, :cache, :refetch_suppressed], %{name: ^name, reason: :negative})
    end
  end

  describe "cache health" do
    test "stale_served once when the key set passes its TTL, with its age", ctx do
      s = server([ctx.a])
      name = http_cache(s, ttl: 300, backoff_initial: 50, backoff_max: 100)
      TestServer.set(s, mode: {:status, 500})

      {m, meta} = event([:jwks_verify, :cache, :stale_served], %{name: ^name})
      assert m.count == 1
      assert is_integer(meta.age) and meta.age >= 300
      assert Cache.status(name) == :stale
      # Once: further failed fetches while stale say nothing more.
      failures = Cache.info(name).consecutive_failures
      assert eventually(fn -> Cache.info(name).consecutive_failures >= failures + 2 end)
      refute_received {:telemetry, [:jwks_verify, :cache, :stale_served], _, _, _}
    end
  end

  describe "guard" do
    setup ctx do
      {:ok, ks} = JwksVerify.key_set(jwks([ctx.a]))
      %{ks: ks, config: Guard.init(key_set: ks, public_paths: ["/health"], aud: "api")}
    end

    # One stop event, in the caller, whose duration spans the call.
    defp decide(config, headers, path \\ "/api") do
      before = System.monotonic_time()
      result = Guard.decide(config, headers, path)
      now = System.monotonic_time()
      me = self()

      {m, meta} = event([:jwks_verify, :guard, :stop], %{}, ^me)
      assert m.duration >= 0
      assert m.monotonic_time - m.duration >= before
      assert m.monotonic_time <= now
      refute_received {:telemetry, [:jwks_verify, :guard, _], _, _, _}
      {result, meta}
    end

    test "a valid token: outcome ok, no reason, no status, no claims", ctx do
      tok = token(ctx.a, claims(%{"aud" => "api"}))
      headers = [{"authorization", "Bearer " <> tok}]

      assert {{:ok, %{"sub" => "user-1"}}, meta} = decide(ctx.config, headers)
      assert %{outcome: :ok, reason: nil, status: nil, cache: nil} = meta
      refute_data(meta, tok)
    end

    test "a public path: outcome skip", ctx do
      assert {:skip, meta} = decide(ctx.config, [], "/health")
      assert %{outcome: :skip, reason: nil, status: nil, cache: nil} = meta
    end

    test "each kind of refusal: the reason's atom and the status sent", ctx do
      expired = token(ctx.a, claims(%{"aud" => "api", "exp" => 1, "iat" => 0}))
      no_aud = token(ctx.a)
      other = token(key("key-a"), claims(%{"aud" => "api"}))

      cases = [
        {[], :missing_token, 401, nil},
        {[{"authorization", "Basic dXNlcjpwYXNz"}], :missing_token, 401, nil},
        {[{"authorization", "Bearer"}], :malformed_authorization, 400, nil},
        {[{"authorization", "Bearer a"}, {"authorization", "Bearer b"}], :multiple_authorization,
         400, nil},
        {[{"authorization", "Bearer " <> expired}], :expired, 401, expired},
        {[{"authorization", "Bearer " <> no_aud}], :missing_claim, 401, no_aud},
        {[{"authorization", "Bearer " <> other}], :bad_signature, 401, other}
      ]

      for {headers, reason, status, tok} <- cases do
        assert {{:error, _, {^status, _, _}}, meta} = decide(ctx.config, headers)
        assert %{outcome: :refused, reason: ^reason, status: ^status, cache: nil} = meta
        if tok, do: refute_data(meta, tok)
      end
    end

    test "the cache's name; a cache that isn't running is refused with 503", ctx do
      name = cache(jwks: jwks([ctx.a]))
      tok = token(ctx.a)
      headers = [{"authorization", "Bearer " <> tok}]

      assert {{:ok, _}, %{outcome: :ok, cache: ^name}} = decide(Guard.init(cache: name), headers)

      down = Guard.init(cache: :telemetry_no_such_cache, unavailable_status: 502)
      assert {{:error, :jwks_unavailable, _}, meta} = decide(down, headers)

      assert %{outcome: :refused, reason: :jwks_unavailable, status: 502} = meta
      assert meta.cache == :telemetry_no_such_cache
    end

    test "a skip function that raises: guard.exception, then the raise", ctx do
      config = Guard.init(key_set: ctx.ks, skip: {__MODULE__, :crash})
      tok = token(ctx.a)

      before = System.monotonic_time()

      assert_raise ArgumentError, fn ->
        Guard.decide(config, [{"authorization", "Bearer " <> tok}], "/api/" <> tok)
      end

      {m, meta} = event([:jwks_verify, :guard, :exception])
      assert %{kind: :error, reason: ArgumentError, cache: nil} = meta
      assert m.duration >= 0 and m.monotonic_time - m.duration >= before
      assert [{__MODULE__, :crash, 1, _} | _] = meta.stacktrace
      assert Enum.all?(meta.stacktrace, fn {_, _, arity, _} -> is_integer(arity) end)
      refute_data(meta, tok)
      refute_received {:telemetry, [:jwks_verify, :guard, :stop], _, _, _}
    end

    test "JwksVerify.Plug and jwks_verify_httpd emit it for each request", ctx do
      tok = token(ctx.a, claims(%{"aud" => "api"}))
      config = JwksVerify.Plug.init(cache: :telemetry_plug_cache, aud: "api")
      name = cache(name: :telemetry_plug_cache, jwks: jwks([ctx.a]))

      conn = %{
        req_headers: [{"authorization", "Bearer " <> tok}],
        request_path: "/",
        assigns: %{}
      }

      assert %{assigns: %{current_user: %{"sub" => "user-1"}}} =
               JwksVerify.Plug.call(conn, config)

      event([:jwks_verify, :guard, :stop], %{outcome: :ok, cache: ^name})

      api = JwksVerify.PlugTestHelpers.start_api(cache: name, aud: "api")
      on_exit(fn -> JwksVerify.PlugTestHelpers.stop_httpd(api.server) end)
      assert {401, _, _} = JwksVerify.PlugTestHelpers.get(api.base <> "/api/protected")

      # In httpd's request process.
      event(
        [:jwks_verify, :guard, :stop],
        %{outcome: :refused, reason: :missing_token, status: 401, cache: ^name},
        emitter
      )

      refute emitter == self()
    end
  end

  describe "without telemetry" do
    test "nothing loaded: the guard decides and the cache fetches, and nothing is emitted",
         ctx do
      :stand_in = kind()

      without(fn ->
        refute :erlang.function_exported(:telemetry, :execute, 3)
        config = Guard.init(key_set: JwksVerify.key_set(jwks([ctx.a])) |> elem(1))

        assert {:ok, _} =
                 Guard.decide(config, [{"authorization", "Bearer " <> token(ctx.a)}], "/")

        assert {:error, :missing_token, {401, _, _}} = Guard.decide(config, [], "/")

        name = http_cache(server([ctx.a]))
        assert {:error, :unknown_kid} = JwksVerify.verify(junk(token(ctx.a), "x"), name, [])
        assert Cache.info(name).counts.fetches == 2
        # The cache looked for telemetry when it started, and found none.
        refute :erlang.module_loaded(:telemetry)
      end)

      refute_received {:telemetry, _, _, _, _}
    end

    test "a cache that starts loads telemetry from the code path, then emits", ctx do
      :stand_in = kind()
      :code.purge(:telemetry)
      true = :code.delete(:telemetry)
      :code.purge(:telemetry)
      refute :erlang.module_loaded(:telemetry)

      name = http_cache(server([ctx.a]))

      assert :erlang.module_loaded(:telemetry)
      event([:jwks_verify, :cache, :fetch, :stop], %{name: ^name, kind: :initial})
    end
  end

  describe "the README's Telemetry section" do
    test "lists every event with these measurements and metadata" do
      readme = File.read!(Path.expand("../../README.md", __DIR__))
      [_, section] = String.split(readme, "\n## Telemetry\n", parts: 2)
      section = section |> String.split("\n## ", parts: 2) |> hd()

      rows =
        for [_, event, m, meta] <-
              Regex.scan(~r/^\| `(\[:jwks_verify[^`]*\])` \| ([^|]*) \| ([^|]*) \|$/m, section),
            into: %{} do
          keys = fn cell ->
            cell
            |> then(&Regex.scan(~r/`(\w+)`/, &1))
            |> Enum.map(fn [_, k] -> String.to_atom(k) end)
            |> Enum.sort()
          end

          {event |> Code.eval_string() |> elem(0), {keys.(m), keys.(meta)}}
        end

      assert rows == @events
    end
  end

  def crash(_path), do: raise(ArgumentError, "skip failed")

  defp claims(extra), do: JwksVerify.CacheTestHelpers.claims(extra)
end
