# Guards the JWKS cache against the faults of issue 14: 503s at boot (a
# verification that finds no key set joins the fetch under way), a guessed
# kid holding back a real rotation, a verified-token cache anyone can write,
# error responses read whole whatever their size, a misspelt cache name that
# fails silently, key sets lost to a NIF reload, and private keys published
# in a JWKS. Real HTTP on 127.0.0.1 (JwksVerify.TestServer), tokens signed by
# OTP's :public_key.
defmodule JwksVerify.CacheHardeningTest do
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog
  import JwksVerify.CacheTestHelpers

  alias JwksVerify.Cache
  alias JwksVerify.TestServer

  @moduletag :capture_log

  setup_all do
    dir =
      Path.join(System.tmp_dir!(), "jwks_verify_hardening_#{System.unique_integer([:positive])}")

    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)
    %{a: key("key-a"), b: key("key-b"), dir: dir}
  end

  defp issuer(keys, opts \\ []) do
    s = TestServer.start(opts)
    on_exit(fn -> TestServer.stop(s) end)
    TestServer.set(s, jwks: jwks(keys))
    s
  end

  defp ms, do: System.monotonic_time(:millisecond)

  # Runs fun in n processes released together; their results, in order.
  defp together(n, fun) do
    parent = self()

    pids =
      for _ <- 1..n do
        spawn_link(fn ->
          receive do
            :go -> send(parent, {:result, self(), fun.()})
          end
        end)
      end

    Enum.each(pids, &send(&1, :go))
    for pid <- pids, do: assert_receive({:result, ^pid, result}, 30_000) && result
  end

  describe "at boot, verification joins the first fetch (item 1)" do
    test "1 000 concurrent verifications right after start: all pass, one request", ctx do
      s = issuer([ctx.a])
      # A slow issuer: every caller arrives while the first fetch is under way.
      TestServer.set(s, delay: 300)
      tok = token(ctx.a)
      opts = JwksVerify.options([])
      name = cache(jwks_uri: TestServer.url(s), allow_http: true)

      results = together(1_000, fn -> JwksVerify.verify(tok, name, opts) end)

      assert Enum.frequencies_by(results, &elem(&1, 0)) == %{ok: 1_000}
      assert TestServer.count(s) == 1
      assert %{counts: %{fetches: 1}, status: :fresh} = Cache.info(name)
    end

    test "the Erlang API too: a start then a verify, no await_first_fetch", ctx do
      s = issuer([ctx.a])
      TestServer.set(s, delay: 100)
      name = :jwks_hardening_erlang

      {:ok, pid} =
        :jwks_verify_cache.start_link(name, %{jwks_uri: TestServer.url(s), allow_http: true})

      on_exit(fn -> if Process.alive?(pid), do: :jwks_verify_cache.stop(name) end)
      assert {:ok, %{"sub" => "user-1"}} = :jwks_verify.verify(token(ctx.a), name, %{})
      assert {:ok, _} = :jwks_verify_cache.key_set(name)
    end

    test "issuer down at boot: callers get jwks_unavailable once the fetch fails, then at once",
         ctx do
      s = issuer([ctx.a])
      # Each attempt takes 200 ms and fails; retries wait 400-800 ms.
      TestServer.set(s, mode: {:status, 503}, delay: 200)
      tok = token(ctx.a)
      opts = JwksVerify.options([])
      timeout = 2_000
      t0 = ms()

      name =
        cache(
          jwks_uri: TestServer.url(s),
          allow_http: true,
          timeout: timeout,
          backoff_initial: 800,
          backoff_max: 800
        )

      results =
        together(200, fn ->
          started = ms()
          {JwksVerify.verify(tok, name, opts), started, ms()}
        end)

      for {result, started, done} <- results do
        assert result == {:error, :jwks_unavailable}
        # They waited for the fetch's answer (it takes 200 ms), never longer
        # than its timeout.
        assert done - started < timeout
        assert done - t0 >= 150
      end

      assert TestServer.count(s) == 1

      # Backing off: callers fail at once and ask for nothing.
      assert eventually(fn -> Cache.info(name).fetching == false end)

      {us, results} =
        :timer.tc(fn -> for _ <- 1..1_000, do: JwksVerify.verify(tok, name, opts) end)

      assert Enum.uniq(results) == [{:error, :jwks_unavailable}]
      assert us < 1_000_000
      assert TestServer.count(s) == 1

      # For a while, callers hammering: no more requests than the backoff
      # schedule allows (each attempt 200 ms, then at least 400 ms of wait).
      deadline = ms() + 1_500

      Stream.repeatedly(fn -> JwksVerify.verify(tok, name, opts) end)
      |> Enum.take_while(fn _ -> ms() < deadline end)

      elapsed = ms() - t0
      assert TestServer.count(s) <= 1 + div(elapsed, 600), "#{TestServer.count(s)} in #{elapsed}"
      assert Cache.status(name) == :unavailable
    end

    test "an issuer that hangs at boot: callers wait no longer than the fetch's timeout", ctx do
      s = issuer([ctx.a])
      TestServer.set(s, mode: :hang)
      tok = token(ctx.a)
      t0 = ms()

      name =
        cache(jwks_uri: TestServer.url(s), allow_http: true, timeout: 400, backoff_initial: 5_000)

      results = together(50, fn -> {JwksVerify.verify(tok, name, []), ms() - t0} end)

      for {result, elapsed} <- results do
        assert result == {:error, :jwks_unavailable}
        assert elapsed >= 350 and elapsed < 400 + 1_000, "#{elapsed} ms"
      end

      assert TestServer.count(s) == 1
    end
  end

  describe "negative kids (item 2)" do
    test "a kid probed before the issuer publishes it verifies within refetch_interval",
         ctx do
      s = issuer([ctx.a])
      interval = 500
      # negative_ttl keeps its default (5 minutes).
      name = http_cache(s, refetch_interval: interval)
      k = key("key-k")
      tok_k = token(k)

      # The probe: a refetch that doesn't bring key-k, which becomes negative.
      assert {:error, :unknown_kid} = Cache.verify(name, tok_k)
      assert %{negative_kids: 1} = Cache.info(name)
      probed = ms()

      TestServer.set(s, jwks: jwks([ctx.a, k]))

      assert eventually(fn -> match?({:ok, _}, Cache.verify(name, tok_k)) end, 3 * interval)
      # refetch_interval plus one fetch (a loopback round trip), with slack for load.
      assert ms() - probed < interval + 500
    end

    test "within refetch_interval a negative kid asks for nothing, not even a queued refetch",
         ctx do
      s = issuer([ctx.a])
      name = http_cache(s, refetch_interval: 400)
      junk = token(key("never-published"))
      before = TestServer.count(s)

      for _ <- 1..100, do: assert({:error, :unknown_kid} = Cache.verify(name, junk))
      assert TestServer.count(s) == before + 1
      Process.sleep(600)
      assert TestServer.count(s) == before + 1
    end
  end

  describe "the verified-token cache (item 3)" do
    test "is protected: a planted entry is refused, and one sent to the owner is useless",
         ctx do
      name = cache(jwks: jwks([ctx.a]), token_cache: true)
      tok = token(ctx.a)
      assert {:ok, _} = Cache.verify(name, tok)
      assert eventually(fn -> Cache.info(name).token_cache.size == 1 end)

      [{:key_set, _, _, _, _, {tid, _max}}] = :ets.lookup(name, :key_set)
      assert :ets.info(tid, :protection) == :protected
      [{_hash, match, gen, exp, nbf, iat, drop, _claims}] = :ets.tab2list(tid)
      planted = {:crypto.hash(:sha256, "x"), match, gen, exp, nbf, iat, drop, %{"sub" => "admin"}}

      assert_raise ArgumentError, fn -> :ets.insert(tid, planted) end
      assert {:error, :malformed_token} = Cache.verify(name, "x")

      # The owner writes only what it verified itself.
      prepared = JwksVerify.options([]).prepared
      GenServer.cast(name, {:remember, "x", prepared, gen})
      assert {:error, :malformed_token} = Cache.verify(name, "x")
      assert Cache.info(name).token_cache.size == 1
    end
  end

  describe "response size (item 4)" do
    setup ctx do
      s = issuer([ctx.a])
      %{s: s, name: http_cache(s, backoff_initial: 60_000)}
    end

    # Peak growth of :erlang.memory(:total) while fun runs, sampled every ms.
    defp peak_growth(fun) do
      :erlang.garbage_collect()
      base = :erlang.memory(:total)
      parent = self()

      sampler =
        spawn_link(fn ->
          peak = sample(base)
          send(parent, {:peak, peak})
        end)

      result = fun.()
      send(sampler, :stop)
      assert_receive {:peak, peak}, 5_000
      {peak - base, result}
    end

    defp sample(peak) do
      receive do
        :stop -> max(peak, :erlang.memory(:total))
      after
        1 -> sample(max(peak, :erlang.memory(:total)))
      end
    end

    for {label, extra} <- [{"with Content-Length", []}, {"chunked", [chunked: true]}] do
      test "a 500 with a 200 MB body (#{label}) costs no memory", ctx do
        TestServer.set(ctx.s, mode: {:huge, 200_000_000, [status: 500] ++ unquote(extra)})
        {growth, result} = peak_growth(fn -> Cache.refresh(ctx.name) end)
        assert result == {:error, {:http_status, 500}}
        assert growth < 8_000_000, "grew #{growth} bytes"
        assert {:ok, _} = Cache.verify(ctx.name, token(ctx.a))
        assert %{status: :fresh, generation: 1} = Cache.info(ctx.name)
      end
    end

    test "a redirect with a 200 MB body is followed without reading it", ctx do
      target = issuer([ctx.a, ctx.b])

      TestServer.set(ctx.s,
        mode: {:huge, 200_000_000, status: 302, location: TestServer.url(target)}
      )

      {growth, result} = peak_growth(fn -> Cache.refresh(ctx.name) end)
      assert result == :ok
      assert growth < 8_000_000, "grew #{growth} bytes"
      assert {:ok, _} = Cache.verify(ctx.name, token(ctx.b))
    end

    test "a 200 over max_body_bytes is still refused", ctx do
      TestServer.set(ctx.s, mode: {:huge, 200_000_000, []})
      {growth, result} = peak_growth(fn -> Cache.refresh(ctx.name) end)
      assert result == {:error, {:body_too_large, 1_048_576}}
      assert growth < 8_000_000, "grew #{growth} bytes"
    end
  end

  describe "a cache name that isn't running (item 5)" do
    test "fails closed, says so once a minute in the log, and status says not_running", ctx do
      name = :"no_such_cache_#{System.unique_integer([:positive])}"
      tok = token(ctx.a)

      log =
        capture_log([level: :warning], fn ->
          for _ <- 1..50,
              do: assert({:error, :jwks_unavailable} = JwksVerify.verify(tok, name, []))
        end)

      assert [_] = Regex.scan(~r/#{name}/, log), log
      assert log =~ "no cache of that name is running"

      assert Cache.status(name) == :not_running
      assert %{running: false, status: :not_running} = Cache.info(name)
      assert :jwks_verify_cache.status(name) == :not_running

      # Another missing name gets its own warning.
      other = :"no_such_cache_#{System.unique_integer([:positive])}"

      assert capture_log([level: :warning], fn -> JwksVerify.verify(tok, other, []) end) =~
               "#{other}"
    end
  end

  describe "NIF reload (item 6)" do
    # As jwks_verify_memory_test's lifecycle test: a fresh load, which drops
    # the old library's resource type, so key sets made before are foreign.
    defp reload_nif do
      assert :code.delete(:jwks_verify_nif)
      assert :code.soft_purge(:jwks_verify_nif)
      assert {:module, :jwks_verify_nif} = :code.load_file(:jwks_verify_nif)
    end

    test "caches rebuild their key set from its source, unseen by callers", ctx do
      path = Path.join(ctx.dir, "jwks.json")
      File.write!(path, jwks([ctx.a]))
      s = issuer([ctx.a])

      caches = [
        cache(jwks: jwks([ctx.a])),
        cache(jwks_file: path),
        http_cache(s),
        cache(jwks: jwks([ctx.a]), token_cache: true)
      ]

      tok = token(ctx.a)
      for name <- caches, do: assert({:ok, _} = Cache.verify(name, tok))
      {:ok, before} = Cache.key_set(hd(caches))
      requests = TestServer.count(s)

      reload_nif()
      assert_raise ArgumentError, fn -> JwksVerify.verify(tok, before, []) end

      for name <- caches do
        assert {^name, {:ok, %{"sub" => "user-1"}}} = {name, Cache.verify(name, token(ctx.a))}
        assert {:ok, ks} = Cache.key_set(name)
        assert {:ok, _} = JwksVerify.verify(tok, ks, [])
        assert Cache.status(name) == :fresh
      end

      # The HTTP cache rebuilt from the body it had: no request.
      assert TestServer.count(s) == requests
      # refresh/1 of a static cache builds its key set again too.
      reload_nif()
      assert :ok = Cache.refresh(hd(caches))
      {:ok, ks} = Cache.key_set(hd(caches))
      assert {:ok, _} = JwksVerify.verify(tok, ks, [])
    end
  end

  describe "private keys in a JWKS (item 7)" do
    # A JWK carrying private members, which the core refuses as `private_key`.
    defp private_jwk(key) do
      key |> :jwks_verify_signer.public_jwk() |> Map.put("d", "c2VjcmV0LW1hdGVyaWFs")
    end

    test "the report names the kids of private_key entries, at error level, and no more" do
      keys = [
        %{kid: "leaked-1", kty: "RSA", alg: "RS256", status: :private_key},
        %{kid: "fine", kty: "RSA", alg: "RS256", status: :ok},
        %{kid: "leaked-2", kty: "EC", alg: "ES256", status: :private_key}
      ]

      log =
        capture_log(fn ->
          :ok = :jwks_verify_cache_report.private_keys(:my_cache, "https://issuer/jwks", keys)
        end)

      assert log =~ "[error]"
      assert log =~ ~s(["leaked-1","leaked-2"]) or log =~ ~s(["leaked-1", "leaked-2"])
      refute log =~ "fine"

      assert capture_log(fn ->
               :jwks_verify_cache_report.private_keys(:my_cache, "x", tl(tl(tl(keys))))
             end) == ""
    end

    test "a static or fetched key set holding private keys is logged, their material not", ctx do
      leaked = key("leaked")
      json = jwks([ctx.a, private_jwk(leaked)])
      s = issuer([ctx.a])
      TestServer.set(s, jwks: json)

      for opts <- [
            [jwks: json],
            [jwks_uri: TestServer.url(s), allow_http: true, await_first_fetch: 5_000]
          ] do
        log =
          capture_log(fn ->
            name = cache(opts)
            assert {:ok, _} = Cache.verify(name, token(ctx.a))
            assert {:error, :private_key} = Cache.verify(name, token(leaked))
          end)

        assert log =~ ~r/\[error\].*private key material.*"leaked"/s
        refute log =~ "c2VjcmV0LW1hdGVyaWFs"
      end
    end
  end
end
