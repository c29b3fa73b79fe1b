# The BEAM side of the benchmark: every path an Elixir or Erlang service could
# take to verify the same tokens, timed in one VM.
#
#     mix run bench/bench.exs
#
# Reads the fixtures bench/fixtures.exs wrote (BENCH_FIXTURES, default
# bench/build/fixtures; generated here when absent) and writes its figures to
# BENCH_OUT (default bench/build/out)/beam.json; bench/report.exs joins them
# with the C and Node figures. BENCH_ROUND_MS (150) and BENCH_ROUNDS (11) set
# the timing rounds; BENCH_MEMORY_N (1_000_000) the verifications of the
# memory check; BENCH_THROUGHPUT_MS (2000) each throughput window.
#
# Paths, each on the same token and with the same checks where the path has
# them (signature, exp, iss, aud):
#   jwks_verify           JwksVerify.verify/3, key set in hand, options prepared once
#   jwks_verify_keyword   the same with a keyword list validated on every call
#   cache                 JwksVerify.verify/3 given a JwksVerify.Cache name (static JWKS)
#   jwks_verify_dirty     the first, with verify_scheduler :dirty (every verification on a
#                         dirty CPU scheduler; README "Scheduler usage")
#   guard                 :jwks_verify_guard.check/3 (the Plug's and httpd's decision):
#                         request headers in, claims out, through the cache
#   guard_token_cache     the same through a cache with `token_cache: true`: after the
#                         first call, a hit in its verified-token cache
#   jose                  erlang-jose's jose_jwt:verify_strict/3 (what JOSE.JWT.verify_strict/3
#                         calls), the right JWK pre-parsed and in hand; no claim checks
#   jose_app              what a Phoenix app on JOSE does per request: peek the header,
#                         pick the pre-parsed JWK by kid, verify_strict, check exp/nbf/iss/aud
#   public_key            :public_key.verify/4,5 on the signing input and signature (OTP floor)
#
# How the paths are timed, and how throughput and memory are measured: see the
# comments above interleaved/4, throughput/2 and memory/2.
Code.require_file("fixtures.exs", __DIR__)

defmodule JwksVerify.Bench do
  alias JwksVerify.Bench.Fixtures

  @ed25519 {1, 3, 101, 112}
  @p256 {1, 2, 840, 10045, 3, 1, 7}

  def main do
    fixtures = System.get_env("BENCH_FIXTURES", "bench/build/fixtures")
    out = System.get_env("BENCH_OUT", "bench/build/out")
    round_ms = env_int("BENCH_ROUND_MS", 150)
    rounds = env_int("BENCH_ROUNDS", 11)
    unless File.exists?(Path.join(fixtures, "jwks.json")), do: Fixtures.generate(fixtures)
    File.mkdir_p!(out)
    :jose.json_module(:jose_json_jiffy)

    jwks_json = File.read!(Path.join(fixtures, "jwks.json"))
    %{"iss" => iss, "aud" => aud} = decode(File.read!(Path.join(fixtures, "claims.json")))
    {:ok, ks} = JwksVerify.key_set(jwks_json)
    jwks = decode(jwks_json)
    jose_keys = Map.new(jwks["keys"], &{&1["kid"], :jose_jwk.from_map(&1)})
    algs = Fixtures.algs()

    ctx = %{
      ks: ks,
      jwks_json: jwks_json,
      jwks: jwks,
      jose_keys: jose_keys,
      iss: iss,
      aud: aud,
      fixtures: fixtures
    }

    floor_bin = Path.expand(System.get_env("BENCH_FLOOR", "bench/build/floor"))

    per_alg =
      for alg <- algs, into: %{} do
        token = File.read!(Path.join(fixtures, "#{alg}.jwt")) |> String.trim()
        c = Map.merge(ctx, %{alg: alg, token: token})
        floor = if File.exists?(floor_bin), do: {floor_bin, fixtures, alg}
        paths = [:jwks_verify, :jose, :jose_app, :public_key]

        paths =
          if alg == "RS256",
            do:
              paths ++
                [:jwks_verify_keyword, :jwks_verify_dirty, :cache, :guard, :guard_token_cache],
            else: paths

        {timed, skipped} =
          paths
          |> Enum.map(&{&1, run_path(&1, c)})
          |> Enum.split_with(&match?({_, {:fun, _}}, &1))

        funs = for {path, {:fun, fun}} <- timed, do: {path, fun}
        funs = Enum.map(funs, fn {path, fun} -> {path, with_mode(path, fun)} end)
        figures = Map.merge(interleaved(funs, round_ms, rounds, floor), Map.new(skipped))
        report_line(alg, figures)
        {alg, figures}
      end

    rs256 =
      Map.merge(ctx, %{
        alg: "RS256",
        token: String.trim(File.read!(Path.join(fixtures, "RS256.jwt")))
      })

    throughput = throughput(rs256, env_int("BENCH_THROUGHPUT_MS", 2000))
    memory = memory(rs256, env_int("BENCH_MEMORY_N", 1_000_000))

    result = %{
      "paths" =>
        per_alg
        |> Map.new(fn {alg, f} -> {alg, Map.new(f, fn {k, v} -> {Atom.to_string(k), v} end)} end),
      "throughput" => throughput,
      "memory" => memory,
      "env" => env(),
      "round_ms" => round_ms,
      "rounds" => rounds
    }

    File.write!(Path.join(out, "beam.json"), :jiffy.encode(result, [:pretty]))
  end

  ## Paths. Each returns {:fun, fun} once fun has accepted its token, or
  ## %{"skipped" => why}.

  defp run_path(:jwks_verify, c) do
    opts = JwksVerify.options(algs: [c.alg], iss: c.iss, aud: c.aud)
    {token, ks} = {c.token, c.ks}

    check(
      fn -> JwksVerify.verify(token, ks, opts) end,
      &match?({:ok, %{"sub" => _}}, &1)
    )
  end

  defp run_path(:jwks_verify_keyword, c) do
    {alg, iss, aud, token, ks} = {c.alg, c.iss, c.aud, c.token, c.ks}
    fun = fn -> JwksVerify.verify(token, ks, algs: [alg], iss: iss, aud: aud) end
    check(fun, &match?({:ok, %{"sub" => _}}, &1))
  end

  defp run_path(:cache, c) do
    if Code.ensure_loaded?(JwksVerify.Cache) do
      name = :jwks_verify_bench_cache
      unless Process.whereis(name), do: {:ok, _pid} = start_cache(name, c.jwks_json)
      opts = JwksVerify.options(algs: [c.alg], iss: c.iss, aud: c.aud)
      token = c.token

      check(
        fn -> JwksVerify.verify(token, name, opts) end,
        &match?({:ok, %{"sub" => _}}, &1)
      )
    else
      skipped("JwksVerify.Cache is not compiled in this tree")
    end
  end

  defp run_path(:jwks_verify_dirty, c), do: run_path(:jwks_verify, c)

  defp run_path(:guard, c), do: guard_path(c, :jwks_verify_bench_cache, [])

  defp run_path(:guard_token_cache, c) do
    guard_path(c, :jwks_verify_bench_token_cache, token_cache: true)
  end

  defp run_path(:jose, c) do
    jwk = Map.fetch!(c.jose_keys, kid(c))
    {alg, token} = {c.alg, c.token}
    check(fn -> :jose_jwt.verify_strict(jwk, [alg], token) end, &match?({true, _, _}, &1))
  end

  defp run_path(:jose_app, c) do
    {keys, allowed, token, iss, aud} = {c.jose_keys, [c.alg], c.token, c.iss, c.aud}

    check(
      fn -> jose_app(token, keys, allowed, iss, aud) end,
      &match?({:ok, %{"sub" => _}}, &1)
    )
  end

  defp run_path(:public_key, c) do
    [input, sig] = signing_input_and_signature(c.token)
    jwk = Enum.find(c.jwks["keys"], &(&1["kid"] == kid(c)))
    key = otp_public_key(jwk)
    fun = otp_verify_fun(c.alg, input, sig, key)
    check(fun, &(&1 == true))
  end

  defp guard_path(c, name, cache_opts) do
    if Code.ensure_loaded?(:jwks_verify_guard) and Code.ensure_loaded?(JwksVerify.Cache) do
      unless Process.whereis(name), do: {:ok, _} = start_cache(name, c.jwks_json, cache_opts)
      {:fun, fun} = res = guard_fun(c, name)
      # a token cache takes the token once the cache process has verified it
      if cache_opts[:token_cache], do: wait_token_cached(fun, name)
      res
    else
      skipped(":jwks_verify_guard or JwksVerify.Cache is not compiled in this tree")
    end
  end

  defp guard_fun(c, name) do
    config = :jwks_verify_guard.init(cache: name, algs: [c.alg], iss: c.iss, aud: c.aud)
    headers = request_headers(c.token)
    path = "/api/orders/42"

    check(
      fn -> :jwks_verify_guard.check(config, headers, path) end,
      &match?({:ok, %{"sub" => _}}, &1)
    )
  end

  defp wait_token_cached(fun, name, tries \\ 200) do
    fun.()

    case JwksVerify.Cache.info(name) do
      %{token_cache: %{size: n}} when n > 0 -> :ok
      _ when tries > 0 -> Process.sleep(5) && wait_token_cached(fun, name, tries - 1)
      _ -> raise "the token cache never took the token"
    end
  end

  # The usual Phoenix-on-JOSE plug body, keys pre-parsed into a map by kid.
  defp jose_app(token, keys, allowed, iss, aud) do
    with %{"kid" => kid} <- :jose.decode(:jose_jws.peek_protected(token)),
         {:ok, jwk} <- Map.fetch(keys, kid),
         {true, {:jose_jwt, claims}, _jws} <- :jose_jwt.verify_strict(jwk, allowed, token),
         now = System.system_time(:second),
         %{"exp" => exp, "iss" => ^iss, "aud" => ^aud} when is_integer(exp) and exp > now <-
           claims,
         true <- not is_integer(claims["nbf"]) or claims["nbf"] <= now do
      {:ok, claims}
    else
      _ -> {:error, :invalid}
    end
  end

  defp otp_verify_fun("RS256", input, sig, key),
    do: fn -> :public_key.verify(input, :sha256, sig, key) end

  defp otp_verify_fun("RS512", input, sig, key),
    do: fn -> :public_key.verify(input, :sha512, sig, key) end

  defp otp_verify_fun("PS256", input, sig, key) do
    opts = [rsa_padding: :rsa_pkcs1_pss_padding, rsa_pss_saltlen: 32, rsa_mgf1_md: :sha256]
    fn -> :public_key.verify(input, :sha256, sig, key, opts) end
  end

  defp otp_verify_fun("ES256", input, <<r::256, s::256>>, key) do
    der = :public_key.der_encode(:"ECDSA-Sig-Value", {:"ECDSA-Sig-Value", r, s})
    fn -> :public_key.verify(input, :sha256, der, key) end
  end

  defp otp_verify_fun("EdDSA", input, sig, key),
    do: fn -> :public_key.verify(input, :none, sig, key) end

  defp otp_public_key(%{"kty" => "RSA", "n" => n, "e" => e}),
    do: {:RSAPublicKey, :binary.decode_unsigned(b64d(n)), :binary.decode_unsigned(b64d(e))}

  defp otp_public_key(%{"kty" => "EC", "crv" => "P-256", "x" => x, "y" => y}),
    do: {{:ECPoint, <<4>> <> b64d(x) <> b64d(y)}, {:namedCurve, @p256}}

  defp otp_public_key(%{"kty" => "OKP", "crv" => "Ed25519", "x" => x}),
    do: {{:ECPoint, b64d(x)}, {:namedCurve, @ed25519}}

  defp signing_input_and_signature(token) do
    [h, p, s] = String.split(token, ".")
    [h <> "." <> p, b64d(s)]
  end

  defp kid(c), do: decode(:jose_jws.peek_protected(c.token))["kid"]

  # What a browser or an API client sends: the bearer token among the usual headers.
  defp request_headers(token) do
    [
      {"host", "api.example.com"},
      {"user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"},
      {"accept", "application/json"},
      {"accept-encoding", "gzip, deflate, br"},
      {"accept-language", "en-US,en;q=0.9"},
      {"authorization", "Bearer " <> token},
      {"content-type", "application/json"},
      {"x-request-id", "F7qz3b1mQ2kAAAAB"}
    ]
  end

  defp start_cache(name, jwks_json, opts \\ []) do
    case JwksVerify.Cache.start_link([name: name, jwks: jwks_json] ++ opts) do
      {:ok, pid} ->
        Process.unlink(pid)
        {:ok, pid}

      {:error, {:already_started, pid}} ->
        {:ok, pid}
    end
  end

  ## Timing

  # The dirty-scheduler path is the first path timed with verify_scheduler
  # :dirty, set for its own rounds only (the switch is VM-wide).
  defp with_mode(:jwks_verify_dirty, fun), do: {fun, :dirty}
  defp with_mode(_path, fun), do: {fun, :auto}

  defp check(fun, ok?) do
    result = fun.()

    if ok?.(result) do
      {:fun, fun}
    else
      raise "the path does not accept its token: #{inspect(result, limit: 5)}"
    end
  end

  defp skipped(why) do
    IO.puts("  skipped: #{why}")
    %{"skipped" => why}
  end

  # The paths of one algorithm are timed together: after a warm-up round of
  # each, `rounds` rounds in which every path runs once for `ms`, in an order
  # rotated from round to round, so no path always follows another (a path
  # timed after JOSE's garbage would otherwise pay for it). Each round starts
  # with a round of the OpenSSL floor (bench/floor.c, same token) when the
  # floor program is there, so each path's round is paired with a floor round
  # taken moments before. Every round runs in a fresh process, as a request
  # does in Cowboy. Two statistics are kept: the median round, and the fastest
  # round (on a shared machine, the one the other tenants disturbed least).
  def interleaved(funs, ms, rounds, floor) do
    Enum.each(funs, fn {_, fun} -> timed_round(fun, ms) end)
    n = length(funs)

    samples =
      for r <- 1..rounds, reduce: Map.new(funs, fn {path, _} -> {path, []} end) do
        acc ->
          f = floor_round(floor, ms)
          {a, b} = Enum.split(funs, rem(r, max(n, 1)))

          Enum.reduce(b ++ a, acc, fn {path, fun}, acc ->
            Map.update!(acc, path, &[{f, timed_round(fun, ms)} | &1])
          end)
      end

    Map.new(samples, fn {path, pairs} -> {path, summarize(Enum.reverse(pairs))} end)
  end

  defp summarize(pairs) do
    rs = Enum.map(pairs, &elem(&1, 1))

    result = %{
      "ns" => Float.round(median(rs), 1),
      "ns_min" => Float.round(Enum.min(rs), 1),
      "rounds" => Enum.map(rs, &Float.round(&1, 1))
    }

    case Enum.reject(pairs, fn {f, _} -> f == nil end) do
      [] ->
        result

      paired ->
        fs = Enum.map(paired, &elem(&1, 0))

        Map.merge(result, %{
          "floor_ns_rounds" => Enum.map(fs, &Float.round(&1, 1)),
          "over_floor" => Float.round(median(Enum.map(paired, fn {f, x} -> x / f end)), 4),
          "over_floor_min" =>
            Float.round(Enum.min(Enum.map(paired, &elem(&1, 1))) / Enum.min(fs), 4)
        })
    end
  end

  defp floor_round(nil, _ms), do: nil

  defp floor_round({bin, fixtures, alg}, ms) do
    {out, 0} = System.cmd(bin, ["floor", fixtures, Integer.to_string(ms), alg])
    :jiffy.decode(out, [:return_maps])["floor_ns"]
  end

  defp timed_round({fun, mode}, ms) do
    JwksVerify.verify_scheduler(mode)

    try do
      timed_round(fun, ms)
    after
      JwksVerify.verify_scheduler(:auto)
    end
  end

  defp timed_round(fun, ms) do
    parent = self()

    {pid, ref} =
      spawn_monitor(fn ->
        start = System.monotonic_time(:nanosecond)
        send(parent, {self(), loop(fun, start, start + ms * 1_000_000, 0)})
      end)

    receive do
      {^pid, ns} ->
        Process.demonitor(ref, [:flush])
        ns

      {:DOWN, ^ref, :process, ^pid, reason} ->
        raise "a timed round crashed: #{inspect(reason)}"
    end
  end

  defp loop(fun, start, stop, n) do
    batch(fun, 16)
    t = System.monotonic_time(:nanosecond)
    if t < stop, do: loop(fun, start, stop, n + 16), else: (t - start) / (n + 16)
  end

  defp batch(_fun, 0), do: :ok

  defp batch(fun, k) do
    fun.()
    batch(fun, k - 1)
  end

  defp median(list) do
    sorted = Enum.sort(list)
    n = length(sorted)

    if rem(n, 2) == 1,
      do: Enum.at(sorted, div(n, 2)),
      else: (Enum.at(sorted, div(n, 2) - 1) + Enum.at(sorted, div(n, 2))) / 2
  end

  ## Throughput: many processes verifying, with 1 then 2 schedulers online
  ## (normal and dirty CPU schedulers alike).

  # Variants: the key set in hand on the scheduler the NIF picks (the main
  # figure), the same with every verification on a dirty CPU scheduler, the
  # request guard through the cache, and the guard with the cache's
  # verified-token cache on (hits after the first verification).
  defp throughput(c, ms) do
    opts = JwksVerify.options(algs: [c.alg], iss: c.iss, aud: c.aud)
    {token, ks} = {c.token, c.ks}
    fun = fn -> JwksVerify.verify(token, ks, opts) end

    variants =
      [{"key_set", fun, :auto}, {"key_set_dirty", fun, :dirty}] ++
        for {label, name} <- [
              {"guard", :jwks_verify_bench_cache},
              {"guard_token_cache", :jwks_verify_bench_token_cache}
            ],
            Process.whereis(name),
            do: {label, guard_call(c, name), :auto}

    by_variant =
      for {label, f, mode} <- variants, into: %{} do
        JwksVerify.verify_scheduler(mode)
        r = throughput_of(f, ms)
        JwksVerify.verify_scheduler(:auto)

        IO.puts(
          "  throughput (RS256, #{label}, #{r["processes"]} processes): " <>
            Enum.map_join(r["by_schedulers"], ", ", fn {n, x} ->
              "#{n} scheduler(s) #{round(x["tokens_per_s"])}/s"
            end)
        )

        {label, r}
      end

    Map.put(by_variant["key_set"], "variants", by_variant)
  end

  defp guard_call(c, name) do
    config = :jwks_verify_guard.init(cache: name, algs: [c.alg], iss: c.iss, aud: c.aud)
    headers = request_headers(c.token)
    fn -> :jwks_verify_guard.check(config, headers, "/api/orders/42") end
  end

  defp throughput_of(fun, ms) do
    procs = 32
    max = :erlang.system_info(:schedulers)
    ns = Enum.uniq([1, min(2, max)])
    # 1 and 2 schedulers alternate, three windows each; the best window of each
    # counts (the machine may be shared), all are kept.
    windows = for _ <- 1..3, n <- ns, do: {n, tokens_per_s(fun, n, procs, ms)}

    counts =
      for n <- ns do
        ws = for {^n, w} <- windows, do: w
        best = Enum.max_by(ws, & &1["tokens_per_s"])
        {n, Map.put(best, "windows_tokens_per_s", Enum.map(ws, & &1["tokens_per_s"]))}
      end

    set_online(max, :erlang.system_info(:dirty_cpu_schedulers), 50)
    pin(:all)
    by_n = Map.new(counts, fn {n, r} -> {Integer.to_string(n), r} end)

    scaling =
      case by_n do
        %{"1" => one, "2" => two} -> Float.round(two["tokens_per_s"] / one["tokens_per_s"], 3)
        _ -> nil
      end

    %{
      "processes" => procs,
      "window_ms" => ms,
      "by_schedulers" => by_n,
      "scaling_2_over_1" => scaling
    }
  end

  defp tokens_per_s(fun, n, procs, ms) do
    online = set_online(n, n, 50)
    cpus = pin(n)

    parent = self()
    # warm the schedulers, then count every verification that ends in the window
    go = make_ref()

    pids =
      for _ <- 1..procs do
        spawn_link(fn ->
          receive do
            {^go, stop} -> send(parent, {self(), count_until(fun, stop, 0)})
          end
        end)
      end

    start = System.monotonic_time(:nanosecond)
    stop = start + ms * 1_000_000
    Enum.each(pids, &send(&1, {go, stop}))
    total = Enum.sum(for pid <- pids, do: receive(do: ({^pid, k} -> k)))
    elapsed = System.monotonic_time(:nanosecond) - start

    %{
      "tokens_per_s" => Float.round(total * 1.0e9 / elapsed, 1),
      "verifications" => total,
      "schedulers_online" => elem(online, 0),
      "dirty_cpu_schedulers_online" => elem(online, 1),
      "cpus" => cpus
    }
  end

  # With one normal and one dirty scheduler online the VM still runs on two
  # cores (the dirty one runs the NIF while the normal one runs Erlang), so
  # every thread of the VM is also pinned to the first n CPUs (taskset -a),
  # when taskset and enough CPUs are there; returns the CPU list or "all".
  defp pin(n) do
    cpus = :erlang.system_info(:logical_processors_available)
    taskset = System.find_executable("taskset")

    {list, ok?} =
      case n do
        :all when is_integer(cpus) -> {"0-#{cpus - 1}", true}
        n when is_integer(n) and is_integer(cpus) and n <= cpus -> {"0-#{n - 1}", true}
        _ -> {"all", false}
      end

    if ok? and taskset do
      pid = List.to_string(:os.getpid())
      {_, status} = System.cmd(taskset, ["-a", "-p", "-c", list, pid], stderr_to_stdout: true)
      if status == 0, do: list, else: "all"
    else
      "all"
    end
  end

  # ERTS adjusts the dirty CPU schedulers online to the normal ones
  # asynchronously, and may undo a setting made just before: set both until
  # both read back as asked.
  defp set_online(n, dirty, tries) do
    :erlang.system_flag(:schedulers_online, n)
    :erlang.system_flag(:dirty_cpu_schedulers_online, dirty)
    Process.sleep(20)

    case {:erlang.system_info(:schedulers_online),
          :erlang.system_info(:dirty_cpu_schedulers_online)} do
      {^n, ^dirty} = online -> online
      online when tries <= 1 -> online
      _ -> set_online(n, dirty, tries - 1)
    end
  end

  defp count_until(fun, stop, n) do
    {:ok, _} = fun.()
    if System.monotonic_time(:nanosecond) < stop, do: count_until(fun, stop, n + 1), else: n + 1
  end

  ## Memory: BEAM total and RSS before and after n verifications on 2 schedulers.

  defp memory(c, n) do
    opts = JwksVerify.options(algs: [c.alg], iss: c.iss, aud: c.aud)
    {token, ks} = {c.token, c.ks}
    workers = 4
    # one warm-up pass so that lazily allocated carriers exist before "before"
    run_workers(token, ks, opts, workers, div(10_000, workers))
    before = mem_snapshot()
    t0 = System.monotonic_time(:millisecond)
    run_workers(token, ks, opts, workers, div(n, workers))
    ms = System.monotonic_time(:millisecond) - t0
    after_ = mem_snapshot()

    r = %{
      "verifications" => div(n, workers) * workers,
      "seconds" => ms / 1000,
      "before" => before,
      "after" => after_,
      "beam_total_growth_bytes" => after_["beam_total_bytes"] - before["beam_total_bytes"],
      "rss_growth_bytes" => after_["rss_bytes"] - before["rss_bytes"]
    }

    IO.puts(
      "  memory after #{r["verifications"]} verifications: BEAM total #{mb(before["beam_total_bytes"])} -> #{mb(after_["beam_total_bytes"])} MB, RSS #{mb(before["rss_bytes"])} -> #{mb(after_["rss_bytes"])} MB"
    )

    r
  end

  defp run_workers(token, ks, opts, workers, each) do
    parent = self()

    pids =
      for _ <- 1..workers do
        spawn_link(fn ->
          verify_n(token, ks, opts, each)
          send(parent, {self(), :done})
        end)
      end

    Enum.each(pids, fn pid -> receive(do: ({^pid, :done} -> :ok)) end)
  end

  defp verify_n(_token, _ks, _opts, 0), do: :ok

  defp verify_n(token, ks, opts, k) do
    {:ok, _} = JwksVerify.verify(token, ks, opts)
    verify_n(token, ks, opts, k - 1)
  end

  defp mem_snapshot do
    for pid <- Process.list(), do: :erlang.garbage_collect(pid)
    Process.sleep(200)
    %{"beam_total_bytes" => :erlang.memory(:total), "rss_bytes" => rss_bytes()}
  end

  defp rss_bytes do
    case File.read("/proc/self/status") do
      {:ok, status} ->
        [_, kb] = Regex.run(~r/^VmRSS:\s+(\d+) kB/m, status)
        String.to_integer(kb) * 1024

      _ ->
        nil
    end
  end

  defp mb(bytes), do: Float.round(bytes / 1_048_576, 1)

  ## Environment

  defp env do
    {cpu, cores} = cpu()
    Application.load(:jose)

    %{
      "cpu" => cpu,
      "cores" => cores,
      "otp" => List.to_string(:erlang.system_info(:otp_release)),
      "erts" => List.to_string(:erlang.system_info(:version)),
      "elixir" => System.version(),
      "otp_crypto_lib" =>
        for({name, _, text} <- :crypto.info_lib(), do: "#{name}: #{text}") |> Enum.join(", "),
      "jose" => to_string(Application.spec(:jose, :vsn) || "?"),
      "schedulers" => :erlang.system_info(:schedulers),
      "dirty_cpu_schedulers" => :erlang.system_info(:dirty_cpu_schedulers)
    }
  end

  defp cpu do
    info = File.read!("/proc/cpuinfo")

    model =
      case Regex.run(~r/^model name\s*:\s*(.+)$/m, info),
        do:
          (
            [_, m] -> String.trim(m)
            _ -> "unknown"
          )

    {model, :erlang.system_info(:logical_processors_available) |> cores()}
  end

  defp cores(:unknown), do: :erlang.system_info(:logical_processors)
  defp cores(n), do: n

  ## Helpers

  defp report_line(alg, figures) do
    text =
      Enum.map_join(figures, "  ", fn
        {k, %{"ns" => ns}} -> "#{k} #{Float.round(ns / 1000, 2)} µs"
        {k, %{"skipped" => _}} -> "#{k} skipped"
      end)

    IO.puts("  #{alg}: #{text}")
  end

  defp decode(json), do: :jiffy.decode(json, [:return_maps])
  defp b64d(s), do: Base.url_decode64!(s, padding: false)

  defp env_int(name, default) do
    case System.get_env(name) do
      nil -> default
      v -> String.to_integer(v)
    end
  end
end

JwksVerify.Bench.main()
