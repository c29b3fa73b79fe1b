# Guards the JWKS cache (issue 4) against what breaks caches in the field:
# an issuer down at boot, a cache wiped by a failed fetch, Cache-Control
# ignored, random kids spending the refetch budget, keys trusted after the
# issuer removed them, and callers that crash or wait when the cache process
# is busy. Everything runs against a real HTTP(S) server on 127.0.0.1
# (JwksVerify.TestServer) with tokens signed by OTP's :public_key.
defmodule JwksVerify.CacheTest do
  use ExUnit.Case, async: false

  import JwksVerify.CacheTestHelpers

  alias JwksVerify.Cache
  alias JwksVerify.TestServer

  @moduletag :capture_log

  setup_all do
    dir =
      Path.join(System.tmp_dir!(), "jwks_verify_cache_test_#{System.unique_integer([:positive])}")

    on_exit(fn -> File.rm_rf!(dir) end)

    %{
      a: key("key-a"),
      b: key("key-b"),
      c: key("key-c"),
      e: key("key-e", :es256),
      certs: make_certs(dir),
      dir: dir
    }
  end

  defp server(opts \\ []) do
    server = TestServer.start(opts)
    on_exit(fn -> TestServer.stop(server) end)
    server
  end

  defp issuer(keys, opts \\ []) do
    s = server(opts)
    TestServer.set(s, jwks: jwks(keys))
    s
  end

  defp junk_token(base, kid) do
    [_, payload, sig] = String.split(base, ".")
    header = Base.url_encode64(~s({"alg":"RS256","kid":"#{kid}"}), padding: false)
    Enum.join([header, payload, sig], ".")
  end

  describe "static sources" do
    test "a JWKS string verifies without HTTP; unknown kids fail at once", ctx do
      name = cache(jwks: jwks([ctx.a, ctx.e]))

      assert {:ok, %{"sub" => "user-1"}} = Cache.verify(name, token(ctx.a))
      assert {:ok, %{"sub" => "user-1"}} = Cache.verify(name, token(ctx.e), algs: ["ES256"])
      assert {:error, :unknown_kid} = Cache.verify(name, token(ctx.b))
      assert Cache.status(name) == :fresh
      assert %{source: :static, key_count: 2, kids: ["key-a", "key-e"]} = Cache.info(name)
    end

    test "a JWKS file is read at start and again on refresh/1", ctx do
      path = Path.join(ctx.dir, "jwks-#{System.unique_integer([:positive])}.json")
      File.write!(path, jwks([ctx.a]))
      name = cache(jwks_file: path)
      assert {:ok, _} = Cache.verify(name, token(ctx.a))

      File.write!(path, jwks([ctx.b]))
      assert :ok = Cache.refresh(name)
      assert {:ok, _} = Cache.verify(name, token(ctx.b))
      assert {:error, :unknown_kid} = Cache.verify(name, token(ctx.a))

      File.write!(path, "{not json")
      assert {:error, {:bad_jwks, :bad_json}} = Cache.refresh(name)
      assert {:ok, _} = Cache.verify(name, token(ctx.b))
    end
  end

  describe "options" do
    test "mistakes raise ArgumentError at start", ctx do
      good = jwks([ctx.a])

      for opts <- [
            [],
            [name: :x],
            [name: "x", jwks: good],
            [name: :x, jwks: good, jwks_uri: "https://a.example/"],
            [name: :x, jwks_uri: "http://127.0.0.1:1/jwks"],
            [name: :x, jwks_uri: "not a url"],
            [name: :x, jwks: "{nope"],
            [name: :x, jwks: ~s({"keys": []})],
            [name: :x, jwks_file: "/nonexistent/jwks.json"],
            [name: :x, jwks: good, ttl: 0],
            [name: :x, jwks: good, ttl: "600"],
            [name: :x, jwks: good, min_ttl: 10, max_ttl: 5],
            [name: :x, jwks: good, backoff_initial: 10, backoff_max: 5],
            [name: :x, jwks: good, token_cache: -1],
            [name: :x, jwks: good, colour: :blue]
          ] do
        assert_raise ArgumentError, fn -> Cache.start_link(opts) end
      end
    end

    test "a cache name that isn't running answers jwks_unavailable", ctx do
      assert {:error, :jwks_unavailable} = JwksVerify.verify(token(ctx.a), :no_such_cache, [])
      assert Cache.status(:no_such_cache) == :not_running
      assert %{running: false, status: :not_running} = Cache.info(:no_such_cache)
    end
  end

  describe "fetching over HTTPS" do
    test "verifies the peer against the given CA and checks the host name", ctx do
      s = issuer([ctx.a], tls: ctx.certs.localhost)
      assert "https://localhost:" <> _ = TestServer.url(s)

      name =
        cache(
          jwks_uri: TestServer.url(s),
          ssl: [cacerts: [ctx.certs.ca_der]],
          await_first_fetch: 5_000
        )

      assert {:ok, _} = Cache.verify(name, token(ctx.a))
      assert Cache.status(name) == :fresh
    end

    test "refuses a server whose CA isn't trusted (system store by default)", ctx do
      s = issuer([ctx.a], tls: ctx.certs.localhost)
      name = cache(jwks_uri: TestServer.url(s), backoff_initial: 5_000)
      assert eventually(fn -> Cache.info(name).consecutive_failures == 1 end)

      assert {:error, :jwks_unavailable} = Cache.verify(name, token(ctx.a))

      assert %{
               status: :unavailable,
               consecutive_failures: 1,
               last_error: {:connect_failed, reason}
             } = Cache.info(name)

      assert {:tls_alert, {:unknown_ca, _}} = reason
    end

    test "refuses a certificate for another host name", ctx do
      s = issuer([ctx.a], tls: ctx.certs.wrong_host)

      name =
        cache(
          jwks_uri: TestServer.url(s),
          ssl: [cacerts: [ctx.certs.ca_der]],
          backoff_initial: 5_000
        )

      assert eventually(fn -> Cache.info(name).consecutive_failures == 1 end)
      assert {:error, :jwks_unavailable} = Cache.verify(name, token(ctx.a))

      assert %{last_error: {:connect_failed, {:tls_alert, {:handshake_failure, _}}}} =
               Cache.info(name)
    end

    test "refuses a redirect from https to http", ctx do
      plain = issuer([ctx.a])
      s = server(tls: ctx.certs.localhost)
      TestServer.set(s, mode: {:redirect, TestServer.url(plain)})

      name =
        cache(
          jwks_uri: TestServer.url(s),
          ssl: [cacerts: [ctx.certs.ca_der]],
          backoff_initial: 5_000
        )

      assert eventually(fn -> Cache.info(name).consecutive_failures == 1 end)
      assert %{last_error: {:insecure_uri, "http://127.0.0.1:" <> _}} = Cache.info(name)
      assert TestServer.count(plain) == 0
    end
  end

  describe "freshness" do
    test "a routine refresh is a conditional request answered by 304", ctx do
      s = issuer([ctx.a])
      TestServer.set(s, etag: ~s("v1"))
      name = http_cache(s)
      assert %{generation: 1, etag: ~s("v1")} = Cache.info(name)

      assert :ok = Cache.refresh(name)
      assert [first, second] = TestServer.requests(s)
      refute Map.has_key?(first.headers, "if-none-match")
      assert second.headers["if-none-match"] == ~s("v1")

      assert %{generation: 1, status: :fresh, counts: %{not_modified: 1}} = Cache.info(name)
      assert {:ok, _} = Cache.verify(name, token(ctx.a))

      # A new document under a new ETag is fetched in full and replaces the key set.
      TestServer.set(s, jwks: jwks([ctx.a, ctx.b]), etag: ~s("v2"))
      assert :ok = Cache.refresh(name)
      assert %{generation: 2, etag: ~s("v2"), kids: ["key-a", "key-b"]} = Cache.info(name)
    end

    test "an unchanged body under 200 keeps the key set (and its token cache)", ctx do
      s = issuer([ctx.a])
      name = http_cache(s, token_cache: true)
      assert {:ok, _} = Cache.verify(name, token(ctx.a))
      assert :ok = Cache.refresh(name)
      assert %{generation: 1, token_cache: %{size: 1}} = Cache.info(name)
    end

    test "Cache-Control max-age and Expires set the TTL, clamped", ctx do
      s = issuer([ctx.a])
      opts = [min_ttl: 5_000, max_ttl: 60_000, ttl: 7_000]

      for {headers, ttl} <- [
            {[cache_control: nil, expires: nil], 7_000},
            {[cache_control: "public, max-age=20"], 20_000},
            {[cache_control: "max-age=1"], 5_000},
            {[cache_control: "max-age=999999"], 60_000},
            {[cache_control: "no-cache"], 5_000},
            {[cache_control: "max-age=30", headers: [{"age", "10"}]], 20_000},
            {[cache_control: nil, headers: [], expires: http_date(40)], 40_000}
          ] do
        TestServer.set(s, [cache_control: nil, expires: nil, headers: []] ++ headers)
        name = http_cache(s, opts)
        # Expires has one-second resolution.
        assert_in_delta Cache.info(name).ttl, ttl, 1_000, inspect(headers)
      end
    end

    test "refreshes ahead of expiry: the key set never goes stale while the issuer answers",
         ctx do
      s = issuer([ctx.a])
      # Refreshes run at 75-85 % of the TTL: 150 ms or more ahead of expiry here.
      name = http_cache(s, ttl: 1_000)

      statuses =
        for _ <- 1..90 do
          Process.sleep(20)
          Cache.status(name)
        end

      assert Enum.uniq(statuses) == [:fresh]
      assert TestServer.count(s) >= 3
    end
  end

  describe "a failed fetch never replaces a good key set" do
    test "for each way an issuer can fail", ctx do
      s = issuer([ctx.a])
      name = http_cache(s, timeout: 500, backoff_initial: 60_000)
      tok = token(ctx.a)

      for {mode, reason} <- [
            {{:status, 500}, {:http_status, 500}},
            {{:status, 404}, {:http_status, 404}},
            {:malformed, {:bad_jwks, :bad_json}},
            {:empty, :no_usable_keys},
            {{:huge, 5_000_000}, {:body_too_large, 1_048_576}},
            {{:huge_chunked, 5_000_000}, {:body_too_large, 1_048_576}},
            {:redirect_loop, :too_many_redirects},
            {:drop, :socket_closed_remotely},
            {:hang, :timeout}
          ] do
        TestServer.set(s, mode: mode)
        assert {:error, ^reason} = Cache.refresh(name), inspect(mode)
        assert {:ok, _} = Cache.verify(name, tok)
        assert %{generation: 1, status: :fresh, last_error: ^reason} = Cache.info(name)
      end

      assert %{consecutive_failures: 9} = Cache.info(name)
      TestServer.set(s, mode: :ok)
      assert :ok = Cache.refresh(name)
      assert %{consecutive_failures: 0, last_error: nil} = Cache.info(name)
    end

    test "an oversized body is cut off while reading, not buffered whole", ctx do
      s = issuer([ctx.a])
      name = http_cache(s, backoff_initial: 60_000)
      # Far more than loopback socket buffers hold: the server can only have
      # written it all if the client kept reading.
      TestServer.set(s, mode: {:huge_chunked, 256_000_000})
      {us, result} = :timer.tc(fn -> Cache.refresh(name) end)
      assert {:error, {:body_too_large, 1_048_576}} = result
      assert us < 3_000_000
    end

    test "a redirect inside the limit is followed", ctx do
      target = issuer([ctx.a])
      s = server()
      TestServer.set(s, mode: {:redirect, TestServer.url(target)})
      name = http_cache(s)
      assert {:ok, _} = Cache.verify(name, token(ctx.a))
    end
  end

  describe "issuer down" do
    test "at boot: jwks_unavailable first, then keys, with nothing restarted", ctx do
      port = free_port()

      name =
        cache(
          jwks_uri: "http://127.0.0.1:#{port}/jwks.json",
          allow_http: true,
          backoff_initial: 50,
          backoff_max: 100
        )

      pid = Process.whereis(name)
      assert Cache.status(name) == :unavailable
      assert {:error, :jwks_unavailable} = Cache.verify(name, token(ctx.a))
      Process.sleep(300)

      assert %{consecutive_failures: n, last_error: {:connect_failed, :econnrefused}} =
               Cache.info(name)

      assert n >= 2

      _s = issuer([ctx.a], port: port)
      assert eventually(fn -> match?({:ok, _}, Cache.verify(name, token(ctx.a))) end)
      assert Process.whereis(name) == pid
      assert %{status: :fresh, consecutive_failures: 0} = Cache.info(name)
    end

    test "await_first_fetch waits for the first key set, and gives up in time", ctx do
      s = issuer([ctx.a])
      TestServer.set(s, delay: 200)
      name = cache(jwks_uri: TestServer.url(s), allow_http: true, await_first_fetch: 5_000)
      assert {:ok, _} = Cache.verify(name, token(ctx.a))

      port = free_port()
      t0 = System.monotonic_time(:millisecond)

      name =
        cache(jwks_uri: "http://127.0.0.1:#{port}/", allow_http: true, await_first_fetch: 300)

      elapsed = System.monotonic_time(:millisecond) - t0
      assert elapsed >= 300 and elapsed < 2_000
      assert Cache.status(name) == :unavailable
    end

    test "retries back off exponentially, with jitter", ctx do
      s = issuer([ctx.a])
      TestServer.set(s, mode: {:status, 503})

      _name =
        cache(
          jwks_uri: TestServer.url(s),
          allow_http: true,
          backoff_initial: 100,
          backoff_max: 400
        )

      assert eventually(fn -> TestServer.count(s) >= 6 end, 5_000)

      gaps =
        s
        |> TestServer.requests()
        |> Enum.map(& &1.at)
        |> Enum.chunk_every(2, 1, :discard)
        |> Enum.map(fn [t1, t2] -> t2 - t1 end)
        |> Enum.take(5)

      # Base delays 100, 200, 400, 400, 400 (capped); each wait is half fixed, half random.
      for {gap, base} <- Enum.zip(gaps, [100, 200, 400, 400, 400]) do
        assert gap >= div(base, 2) and gap <= base + 300, inspect(gaps)
      end
    end

    test "after a good fetch: stale until the ceiling, then unavailable, then back", ctx do
      s = issuer([ctx.a])

      name = http_cache(s, ttl: 300, stale_ceiling: 1_200, backoff_initial: 50, backoff_max: 100)

      tok = token(ctx.a)
      TestServer.set(s, mode: {:status, 500})

      assert eventually(fn -> Cache.status(name) == :stale end)
      assert {:ok, _} = Cache.verify(name, tok)
      assert %{consecutive_failures: n, last_error: {:http_status, 500}} = Cache.info(name)
      assert n >= 1

      assert eventually(fn -> Cache.status(name) == :unavailable end)
      assert {:error, :jwks_unavailable} = Cache.verify(name, tok)
      assert {:error, :jwks_unavailable} = Cache.key_set(name)

      TestServer.set(s, mode: :ok)
      assert eventually(fn -> Cache.status(name) == :fresh end)
      assert {:ok, _} = Cache.verify(name, tok)
    end
  end

  describe "rotation" do
    test "under load: new-kid tokens pass inline after exactly one request", ctx do
      s = issuer([ctx.a])
      name = http_cache(s)
      opts = JwksVerify.options([])
      tok_a = token(ctx.a)
      tok_b = token(ctx.b)
      parent = self()

      workers =
        for i <- 1..1_000 do
          spawn_link(fn ->
            first = for _ <- 1..5, do: JwksVerify.verify(tok_a, name, opts)
            send(parent, {:ready, self()})

            receive do
              :go -> :ok
            end

            # Half keep verifying old-key tokens through the rotation.
            old =
              if rem(i, 2) == 0,
                do: for(_ <- 1..5, do: JwksVerify.verify(tok_a, name, opts)),
                else: []

            new = JwksVerify.verify(tok_b, name, opts)
            send(parent, {:done, self(), first ++ old, new})
          end)
        end

      for w <- workers, do: assert_receive({:ready, ^w}, 30_000)
      before = TestServer.count(s)
      # The issuer now publishes key-b (and is slow, so callers pile up on one fetch).
      TestServer.set(s, jwks: jwks([ctx.a, ctx.b]), delay: 200)
      for w <- workers, do: send(w, :go)

      results =
        for w <- workers do
          assert_receive {:done, ^w, olds, new}, 30_000
          {olds, new}
        end

      assert Enum.all?(results, fn {olds, _} -> Enum.all?(olds, &match?({:ok, _}, &1)) end)
      assert Enum.all?(results, fn {_, new} -> match?({:ok, %{"sub" => "user-1"}}, new) end)
      assert TestServer.count(s) == before + 1
      assert %{counts: %{kid_fetches: 1}, generation: 2} = Cache.info(name)
    end

    test "10 000 random kids stay within the rate limit; a real rotation is still picked up",
         ctx do
      s = issuer([ctx.a])
      interval = 1_000
      name = http_cache(s, refetch_interval: interval)
      base = token(ctx.a)
      before = TestServer.count(s)
      t0 = System.monotonic_time(:millisecond)

      1..10_000
      |> Enum.chunk_every(100)
      |> Task.async_stream(
        fn kids ->
          for k <- kids do
            kid = "junk-#{k}-#{System.unique_integer([:positive])}"
            {:error, :unknown_kid} = JwksVerify.verify(junk_token(base, kid), name, [])
          end
        end,
        max_concurrency: 100,
        timeout: 60_000
      )
      |> Stream.run()

      junk_ms = System.monotonic_time(:millisecond) - t0
      junk_requests = TestServer.count(s) - before
      # One at the first miss, one per further interval, one queued at the end.
      assert junk_requests <= 2 + div(junk_ms, interval),
             "#{junk_requests} requests in #{junk_ms} ms"

      # The issuer rotates right after the flood.
      TestServer.set(s, jwks: jwks([ctx.a, ctx.c]))
      tok_c = token(ctx.c)

      assert eventually(
               fn -> match?({:ok, _}, JwksVerify.verify(tok_c, name, [])) end,
               3 * interval
             )

      total_ms = System.monotonic_time(:millisecond) - t0
      assert TestServer.count(s) - before <= 2 + div(total_ms, interval)
      assert {:ok, _} = JwksVerify.verify(base, name, [])
    end

    test "a kid a refetch did not bring is remembered (negative cache)", ctx do
      s = issuer([ctx.a])
      # A negative kid lasts refetch_interval at most (negative_ttl is longer).
      name = http_cache(s, refetch_interval: 5_000)
      junk = junk_token(token(ctx.a), "never-published")
      before = TestServer.count(s)

      assert {:error, :unknown_kid} = JwksVerify.verify(junk, name, [])
      assert TestServer.count(s) == before + 1

      for _ <- 1..100, do: assert({:error, :unknown_kid} = JwksVerify.verify(junk, name, []))
      assert TestServer.count(s) == before + 1
      assert %{negative_kids: 1} = Cache.info(name)
    end

    test "a key removed at the issuer is refused after the next refresh", ctx do
      s = issuer([ctx.a, ctx.b])
      name = http_cache(s, ttl: 200, token_cache: true)
      tok_b = token(ctx.b)
      assert {:ok, _} = Cache.verify(name, tok_b)
      assert {:ok, _} = Cache.verify(name, tok_b)
      assert %{token_cache: %{size: 1}} = Cache.info(name)

      TestServer.set(s, jwks: jwks([ctx.a]))
      assert eventually(fn -> Cache.verify(name, tok_b) == {:error, :unknown_kid} end)
      assert {:ok, _} = Cache.verify(name, token(ctx.a))
      # The removed kid is negative: it triggers no refetch.
      assert %{counts: %{kid_fetches: 0}, kids: ["key-a"]} = Cache.info(name)
    end

    test "a kid miss while the issuer fails answers unknown_kid inline", ctx do
      s = issuer([ctx.a])
      name = http_cache(s, backoff_initial: 60_000)
      TestServer.set(s, jwks: jwks([ctx.a, ctx.b]), mode: {:status, 500})
      assert {:error, :unknown_kid} = Cache.verify(name, token(ctx.b))
      assert {:ok, _} = Cache.verify(name, token(ctx.a))
    end
  end

  describe "token cache" do
    test "a repeated token skips the signature; time claims are checked on every hit", ctx do
      name = cache(jwks: jwks([ctx.a]), token_cache: true)
      exp = System.system_time(:second) + 100
      tok = token(ctx.a, claims(%{"exp" => exp, "nbf" => exp - 200}))

      assert {:ok, claims} = Cache.verify(name, tok)
      assert {:ok, ^claims} = Cache.verify(name, tok)
      assert %{token_cache: %{size: 1}} = Cache.info(name)

      assert {:ok, ^claims} = Cache.verify(name, tok, now: exp - 1)
      assert {:error, :expired} = Cache.verify(name, tok, now: exp)
      assert {:ok, ^claims} = Cache.verify(name, tok, now: exp, leeway: 5)
      assert {:error, :not_yet_valid} = Cache.verify(name, tok, now: exp - 201)
    end

    test "entries are per options", ctx do
      name = cache(jwks: jwks([ctx.a]), token_cache: true)
      tok = token(ctx.a, claims(%{"aud" => "api-1"}))
      assert {:ok, _} = Cache.verify(name, tok, aud: "api-1")
      assert {:ok, _} = Cache.verify(name, tok, aud: "api-1")
      assert {:error, :invalid_audience} = Cache.verify(name, tok, aud: "api-2")
    end

    test "is bounded, and skips tokens without exp", ctx do
      name = cache(jwks: jwks([ctx.a]), token_cache: 3)

      for i <- 1..5, do: assert({:ok, _} = Cache.verify(name, token(ctx.a, claims(%{"n" => i}))))
      assert %{token_cache: %{size: size, max_entries: 3}} = Cache.info(name)
      assert size <= 3

      no_exp = token(ctx.a, %{"sub" => "x"})
      assert {:ok, _} = Cache.verify(name, no_exp, required: [])
    end

    test "verify_jws goes through the cache too", ctx do
      name = cache(jwks: jwks([ctx.a]), token_cache: true)

      assert {:ok, %{header: %{"kid" => "key-a"}, payload: payload}} =
               JwksVerify.verify_jws(token(ctx.a), name, [])

      assert %{"sub" => "user-1"} = :jiffy.decode(payload, [:return_maps])
    end
  end

  describe "the cache process" do
    test "the hot path never messages it: verification works while it is suspended", ctx do
      s = issuer([ctx.a])
      name = http_cache(s)
      pid = Process.whereis(name)
      :sys.suspend(pid)

      try do
        task = Task.async(fn -> for _ <- 1..100, do: Cache.verify(name, token(ctx.a)) end)
        assert {:ok, results} = Task.yield(task, 5_000)
        assert Enum.all?(results, &match?({:ok, _}, &1))
        assert Cache.status(name) == :fresh
      after
        :sys.resume(pid)
      end
    end

    test "a crash loses nothing it can't refetch, and never crashes callers", ctx do
      s = issuer([ctx.a])
      TestServer.set(s, delay: 100)
      name = http_cache(s)
      tok = token(ctx.a)
      pid = Process.whereis(name)

      callers =
        for _ <- 1..20 do
          Task.async(fn ->
            for _ <- 1..50 do
              Process.sleep(2)
              JwksVerify.verify(tok, name, [])
            end
          end)
        end

      Process.exit(pid, :kill)
      results = callers |> Task.await_many(10_000) |> List.flatten()
      # Between the kill and the restart there is no cache (jwks_unavailable);
      # callers that come after the restart join its first fetch.
      assert Enum.all?(results, &(match?({:ok, _}, &1) or &1 == {:error, :jwks_unavailable}))

      assert eventually(fn -> match?({:ok, _}, JwksVerify.verify(tok, name, [])) end)
      assert Process.whereis(name) != pid
    end

    test "several caches side by side", ctx do
      one = http_cache(issuer([ctx.a]))
      two = http_cache(issuer([ctx.b]))
      assert {:ok, _} = Cache.verify(one, token(ctx.a))
      assert {:ok, _} = Cache.verify(two, token(ctx.b))
      assert {:error, :unknown_kid} = Cache.verify(one, token(ctx.e), algs: ["ES256"])
    end
  end

  describe "from Erlang" do
    test "jwks_verify_cache and jwks_verify:verify/3 as an Erlang user calls them", ctx do
      s = issuer([ctx.a])
      name = :jwks_verify_cache_erlang_test

      spec =
        :jwks_verify_cache.child_spec(%{
          name: name,
          jwks_uri: TestServer.url(s),
          allow_http: true,
          await_first_fetch: 5_000
        })

      start_supervised!(spec)
      tok = token(ctx.a)

      assert {:ok, %{"sub" => "user-1"}} = :jwks_verify.verify(tok, name, %{})
      assert {:ok, %{header: _, payload: _}} = :jwks_verify.verify_jws(tok, name, %{})
      assert :fresh = :jwks_verify_cache.status(name)
      assert {:ok, ks} = :jwks_verify_cache.key_set(name)
      assert {:ok, _} = :jwks_verify.verify(tok, ks, %{})
      assert :ok = :jwks_verify_cache.refresh(name)
      assert %{key_count: 1, kids: ["key-a"]} = :jwks_verify_cache.info(name)

      assert {:badarg,
              %{option: :jwks_uri, given: 1, message: "bad value for option jwks_uri" <> _}} =
               catch_error(:jwks_verify_cache.start_link(:x, %{jwks_uri: 1}))

      assert_raise ArgumentError, ~r/unknown option :jwks_url \(did you mean :jwks_uri\?\)/, fn ->
        JwksVerify.Cache.start_link(name: :x, jwks_url: "https://x/")
      end
    end
  end

  # httpd_util:rfc1123_date/1 takes local time.
  defp http_date(seconds_from_now) do
    (:calendar.datetime_to_gregorian_seconds(:calendar.universal_time()) + seconds_from_now)
    |> :calendar.gregorian_seconds_to_datetime()
    |> :calendar.universal_time_to_local_time()
    |> :httpd_util.rfc1123_date()
    |> to_string()
  end
end
