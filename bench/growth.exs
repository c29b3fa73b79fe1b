# How the cost grows off the happy path: the section "How the cost grows" of
# `make bench` and the README.
#
#     mix run bench/growth.exs
#
# Writes BENCH_OUT (default bench/build/out)/growth.json; bench/report.exs
# turns it into tables and bench/growth.svg. Every figure is µs per call on
# the scheduler the NIF picks for the call (README "Scheduler usage"), the
# fastest of BENCH_GROWTH_ROUNDS (5) rounds of BENCH_GROWTH_ROUND_MS (60) ms,
# the median round beside it. Keys come from :jwks_verify_signer (OTP's
# :public_key); a set of N keys reuses a few distinct keys under N kids,
# which changes nothing of the cost (each JWK is imported on its own).
#
#   keys           RS256 verification against sets of 1 to 10 000 RSA-2048 keys: with a
#                  kid; without one, the signing key first; without one, the signing key
#                  beyond the fourth (refused after JV_MAX_KEY_TRIES signature checks)
#   token_size     claims of 1 to 1000 members, and tokens of 1, 8 and 32 KiB (one
#                  padding claim), each verified once per call (32 KiB: max_token_bytes)
#   jwks           key_set/1 per key, by key type, 1 to 10 000 keys (a document over
#                  4 MiB is jwks_too_large), and a cache's refetch of the largest set:
#                  how long the refresh takes, and the longest the cache process took to
#                  answer a call meanwhile
#   refusals       µs per refused token, by reason, beside the attacker's cost of making it
#   normal_hold    the longest call seen on a normal scheduler: an 8 KiB header of many
#                  members and no kid against four RSA-4096 keys, and an 8 KiB token of
#                  many claims that verifies
Code.require_file("fixtures.exs", __DIR__)

defmodule JwksVerify.Bench.Growth do
  alias :jwks_verify_signer, as: Signer

  @iss "https://issuer.example.com/"
  @aud "bench-api"
  @key_counts [1, 10, 100, 1000, 10_000]

  def main do
    out = System.get_env("BENCH_OUT", "bench/build/out")
    File.mkdir_p!(out)
    rounds = env_int("BENCH_GROWTH_ROUNDS", 5)
    ms = env_int("BENCH_GROWTH_ROUND_MS", 60)
    t = %{rounds: rounds, ms: ms}
    now = System.system_time(:second)

    IO.puts("  keys: generating RSA-2048, RSA-4096, P-256 and Ed25519 keys")
    base = base_keys()

    result = %{
      "keys" => keys(base, now, t),
      "token_size" => token_size(base, now, t),
      "jwks" => jwks(base, t),
      "refusals" => refusals(base, now, t),
      "normal_hold" => normal_hold(base, now),
      "rounds" => rounds,
      "round_ms" => ms
    }

    File.write!(Path.join(out, "growth.json"), :jiffy.encode(result, [:pretty]))
    :ok
  end

  defp base_keys do
    gen = fn alg, n, opts ->
      for i <- 1..n, do: Signer.generate_key(alg, Map.put(opts, :kid, "#{alg}-#{i}"))
    end

    %{
      rsa2048: gen.("RS256", 6, %{bits: 2048}),
      rsa4096: gen.("RS512", 4, %{bits: 4096}),
      p256: gen.("ES256", 6, %{}),
      ed25519: gen.("EdDSA", 6, %{})
    }
  end

  # n public JWKs cycling over keys, kids k1..kn.
  defp jwks_doc(keys, n) do
    ks = List.to_tuple(keys)

    jwks =
      for i <- 1..n do
        Signer.public_jwk(elem(ks, rem(i - 1, tuple_size(ks)))) |> Map.put("kid", "k#{i}")
      end

    enc(%{"keys" => jwks})
  end

  defp enc(term), do: IO.iodata_to_binary(:jiffy.encode(term))

  defp claims(now, extra \\ %{}) do
    Map.merge(
      %{
        "iss" => @iss,
        "aud" => @aud,
        "sub" => "user-1",
        "iat" => now - 60,
        "exp" => now + 86_400
      },
      extra
    )
  end

  defp opts(alg, extra \\ []),
    do: JwksVerify.options([algs: [alg], iss: @iss, aud: @aud] ++ extra)

  ## Verification against larger key sets

  defp keys(base, now, t) do
    [first | rest] = base.rsa2048
    opts = opts("RS256")

    for n <- @key_counts do
      # the signing key is first (k1) and, for the miss, the fifth distinct key
      {:ok, ks} = JwksVerify.key_set(jwks_doc([first | rest], n))
      with_kid = Signer.sign(claims(now), first, %{kid: "k#{n_for(n)}"})
      no_kid = Signer.sign(claims(now), first, %{kid: :undefined})
      beyond = Signer.sign(claims(now), Enum.at(base.rsa2048, 4), %{kid: :undefined})

      r = %{
        "keys" => n,
        "kid" => time(fn -> JwksVerify.verify(with_kid, ks, opts) end, t, &ok?/1),
        "no_kid_first" => time(fn -> JwksVerify.verify(no_kid, ks, opts) end, t, &ok?/1)
      }

      # with fewer than five keys, the fifth key is not in the set
      r =
        if n >= 5,
          do:
            Map.put(
              r,
              "no_kid_beyond_4",
              time(fn -> JwksVerify.verify(beyond, ks, opts) end, t, &match?({:error, _}, &1))
            ),
          else: r

      IO.puts(
        "  keys #{n}: " <>
          Enum.map_join(Map.delete(r, "keys"), ", ", fn {k, v} -> "#{k} #{v && v["us"]} µs" end)
      )

      r
    end
  end

  # k(n) is a copy of the first key when n - 1 is a multiple of the distinct keys
  defp n_for(n), do: n - rem(n - 1, 6)

  defp ok?(r), do: match?({:ok, _}, r)

  ## Token size

  defp token_size(base, now, t) do
    [key | _] = base.rsa2048
    {:ok, ks} = JwksVerify.key_set(jwks_doc([key], 1))
    sign = fn claims -> Signer.sign(claims, key, %{kid: "k1"}) end

    members =
      for n <- [1, 10, 100, 1000] do
        extra = Map.new(1..n, &{"claim_#{&1}", &1})
        tok = sign.(claims(now, extra))
        measure_token("members", n, tok, ks, t)
      end

    sizes =
      for kib <- [1, 8, 32] do
        fill = fn pad -> sign.(claims(now, %{"pad" => String.duplicate("x", pad)})) end
        tok = fill.(pad_for(fill, kib * 1024))
        measure_token("kib", kib, tok, ks, t)
      end

    members ++ sizes
  end

  # The padding that makes the token as close to target bytes as possible, at most target.
  defp pad_for(fill, target) do
    overhead = byte_size(fill.(0))
    # base64url grows the payload by 4/3
    guess = div((target - overhead) * 3, 4)
    Enum.find(guess..0//-1, guess, &(byte_size(fill.(&1)) <= target))
  end

  defp measure_token(kind, n, tok, ks, t) do
    size = byte_size(tok)
    o = opts("RS256", max_token_bytes: max(32_768, size))
    r = time(fn -> JwksVerify.verify(tok, ks, o) end, t, &ok?/1)
    scheduler = if size > 8192, do: "dirty", else: "normal"
    IO.puts("  token #{kind} #{n}: #{size} bytes, #{r["us"]} µs (#{scheduler})")
    Map.merge(r, %{"kind" => kind, "n" => n, "bytes" => size, "scheduler" => scheduler})
  end

  ## Key sets: parse time per key, and a cache's refetch

  defp jwks(base, t) do
    types = [
      {"RSA-2048", base.rsa2048},
      {"RSA-4096", base.rsa4096},
      {"P-256", base.p256},
      {"Ed25519", base.ed25519}
    ]

    parse =
      for {type, keys} <- types, n <- @key_counts do
        doc = jwks_doc(keys, n)

        r =
          case JwksVerify.key_set(doc) do
            {:ok, _} ->
              # fewer calls for big sets: about the same time per point
              reps = max(1, div(2000, n))

              rt =
                time_n(
                  fn -> {:ok, _} = JwksVerify.key_set(doc) end,
                  reps,
                  max(2, div(t.rounds, 2))
                )

              Map.merge(rt, %{"us_per_key" => Float.round(rt["us"] / n, 2)})

            {:error, reason} ->
              %{"error" => Atom.to_string(reason)}
          end

        r = Map.merge(r, %{"type" => type, "keys" => n, "bytes" => byte_size(doc)})
        IO.puts("  key_set #{type} × #{n}: #{inspect(r["us_per_key"] || r["error"])} µs/key")
        r
      end

    %{"parse" => parse, "refetch" => refetch(base)}
  end

  # A cache fetching from a loopback httpd: the refresh of the largest
  # P-256 and RSA-2048 sets that fit, timed whole, while a prober calls
  # the cache process and keeps the longest answer time.
  defp refetch(base) do
    :inets.start()
    dir = Path.join(System.tmp_dir!(), "jwks_verify_bench_#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)

    try do
      {:ok, httpd} =
        :inets.start(:httpd,
          port: 0,
          server_name: ~c"bench",
          server_root: String.to_charlist(dir),
          document_root: String.to_charlist(dir),
          bind_address: {127, 0, 0, 1}
        )

      port = Keyword.fetch!(:httpd.info(httpd), :port)

      results =
        for {type, keys, n} <- [{"P-256", base.p256, 10_000}, {"RSA-2048", base.rsa2048, 8000}] do
          file = "jwks_#{System.unique_integer([:positive])}.json"
          File.write!(Path.join(dir, file), jwks_doc(keys, n))
          refetch_one(type, n, "http://127.0.0.1:#{port}/#{file}")
        end

      :inets.stop(:httpd, httpd)
      results
    after
      File.rm_rf(dir)
    end
  end

  defp refetch_one(type, n, url) do
    name = :"jwks_verify_bench_refetch_#{System.unique_integer([:positive])}"

    opts = [name: name, jwks_uri: url, allow_http: true, max_body_bytes: 8 * 1024 * 1024]

    case JwksVerify.Cache.start_link(opts) do
      {:ok, pid} ->
        Process.unlink(pid)
        :ok = wait_ready(name, 300)
        parent = self()
        prober = spawn_link(fn -> probe(pid, parent, 0) end)
        t0 = System.monotonic_time(:microsecond)
        res = JwksVerify.Cache.refresh(name)
        refresh_us = System.monotonic_time(:microsecond) - t0
        send(prober, :stop)
        max_call_us = receive(do: ({:probe, ^prober, m} -> m))
        :jwks_verify_cache.stop(name)

        r = %{
          "type" => type,
          "keys" => n,
          "refresh_ms" => Float.round(refresh_us / 1000, 1),
          "result" => inspect(res),
          "longest_call_ms" => Float.round(max_call_us / 1000, 2)
        }

        IO.puts("  refetch #{type} × #{n}: #{inspect(r)}")
        r

      {:error, reason} ->
        %{"type" => type, "keys" => n, "error" => inspect(reason)}
    end
  end

  defp wait_ready(_name, 0), do: :timeout

  defp wait_ready(name, tries) do
    case JwksVerify.Cache.info(name) do
      %{key_count: k} when is_integer(k) and k > 0 -> :ok
      _ -> Process.sleep(20) && wait_ready(name, tries - 1)
    end
  end

  # Calls the cache process back to back (a call it answers at once, without
  # copying its state); the longest answer time.
  defp probe(pid, parent, longest) do
    receive do
      :stop -> send(parent, {:probe, self(), longest})
    after
      0 ->
        t0 = System.monotonic_time(:microsecond)
        {:error, :unknown_call} = GenServer.call(pid, :jwks_verify_bench_ping, :infinity)
        probe(pid, parent, max(longest, System.monotonic_time(:microsecond) - t0))
    end
  end

  ## Refusals: our cost per refused token, and what making one costs an attacker

  defp refusals(base, now, t) do
    [key | _] = base.rsa2048
    {:ok, ks} = JwksVerify.key_set(jwks_doc(base.rsa2048, 6))
    opts = opts("RS256")
    good = Signer.sign(claims(now), key, %{kid: "k1"})
    [h, p, s] = String.split(good, ".")
    # the attacker's work: flip one character of the signature of a token seen once
    forge = fn -> h <> "." <> p <> "." <> flip(s) end

    cases = [
      {"bad_signature", "a seen token with one signature character changed", forge.()},
      {"expired", "a genuine token replayed after exp",
       Signer.sign(claims(now, %{"exp" => now - 3600}), key, %{kid: "k1"})},
      {"unknown_kid", "a kid the set does not hold (key set in hand: no fetch)",
       Signer.sign(claims(now), key, %{kid: "nobody"})},
      {"malformed", "not three segments", "not-a-token"},
      {"bad_header", "three segments, the header not JSON", "bm90IGpzb24." <> p <> "." <> s},
      {"alg_none", ~s(a header saying "alg": "none"),
       Base.url_encode64(~s({"alg":"none"}), padding: false) <> "." <> p <> "."}
    ]

    attacker = time(forge, t, &is_binary/1)

    for {reason, what, tok} <- cases do
      r = time(fn -> JwksVerify.verify(tok, ks, opts) end, t, &match?({:error, _}, &1))
      {:error, got} = JwksVerify.verify(tok, ks, opts)

      Map.merge(r, %{
        "reason" => reason,
        "got" => inspect(got),
        "what" => what,
        "attacker_us" => attacker["us"]
      })
    end
  end

  defp flip(s) do
    <<first, rest::binary>> = s
    <<if(first == ?A, do: ?B, else: ?A), rest::binary>>
  end

  ## The longest a verification holds a normal scheduler

  # Two worst cases of what stays on a normal scheduler (at most 8 KiB, no
  # RSA key over 4096 bits): a forged token (no kid, many header members)
  # that makes the NIF try four RSA-4096 keys, and a genuine 8 KiB token of
  # many claims, whose map the NIF builds. Each call timed alone; the slowest
  # of many calls counts, as that is what holds a scheduler.
  defp normal_hold(base, now) do
    {:ok, ks4} = JwksVerify.key_set(jwks_doc(base.rsa4096, 4))
    [k4 | _] = base.rsa4096
    good4 = Signer.sign(claims(now), k4, %{kid: :undefined})
    [_, p, s] = String.split(good4, ".")
    members = Map.new(1..500, &{"h#{&1}", &1}) |> Map.put("alg", "RS512")
    h = Base.url_encode64(enc(members), padding: false)
    h = fit(h, p, s)
    forged = h <> "." <> p <> "." <> flip(s)

    [k2 | _] = base.rsa2048
    {:ok, ks2} = JwksVerify.key_set(jwks_doc([k2], 1))
    many = fn n -> Signer.sign(claims(now, Map.new(1..n, &{"c#{&1}", &1})), k2, %{kid: "k1"}) end
    n = Enum.find(600..10//-10, &(byte_size(many.(&1)) <= 8192))
    genuine = many.(n)

    cases = [
      {"forged, no kid, #{map_size(members)} header members, 4 RSA-4096 keys tried", forged, ks4,
       opts("RS512")},
      {"genuine, #{n} claims", genuine, ks2, opts("RS256")}
    ]

    for {what, tok, ks, o} <- cases do
      true = byte_size(tok) <= 8192
      calls = for _ <- 1..300, do: one_call_us(fn -> JwksVerify.verify(tok, ks, o) end)
      sorted = Enum.sort(calls)

      r = %{
        "what" => what,
        "bytes" => byte_size(tok),
        "result" => inspect(elem(JwksVerify.verify(tok, ks, o), 0)),
        "fastest_us" => Float.round(hd(sorted), 1),
        "median_us" => Float.round(Enum.at(sorted, div(length(sorted), 2)), 1),
        "slowest_us" => Float.round(List.last(sorted), 1)
      }

      IO.puts("  normal scheduler: #{inspect(r)}")
      r
    end
  end

  # Drops header members (from the end of the base64url text, whole JSON
  # members cannot be cut there, so re-encode) until the token fits 8 KiB.
  defp fit(h, p, s) do
    if byte_size(h) + byte_size(p) + byte_size(s) + 2 <= 8192 do
      h
    else
      json = Base.url_decode64!(h, padding: false)
      map = :jiffy.decode(json, [:return_maps])
      {drop, _} = Enum.find(map, fn {k, _} -> k != "alg" end)
      fit(Base.url_encode64(enc(Map.delete(map, drop)), padding: false), p, s)
    end
  end

  defp one_call_us(fun) do
    t0 = System.monotonic_time(:nanosecond)
    fun.()
    (System.monotonic_time(:nanosecond) - t0) / 1000
  end

  ## Timing

  # µs per call: the fastest and the median of t.rounds rounds of t.ms each.
  defp time(fun, t, ok?) do
    result = fun.()
    unless ok?.(result), do: raise("unexpected result: #{inspect(result, limit: 5)}")
    round_us(fun, t.ms)
    rs = for _ <- 1..t.rounds, do: round_us(fun, t.ms)
    summary(rs)
  end

  # The same for expensive calls: reps calls a round, k rounds.
  defp time_n(fun, reps, k) do
    fun.()

    rs =
      for _ <- 1..k,
          do: elem(:timer.tc(fn -> Enum.each(1..reps, fn _ -> fun.() end) end), 0) / reps

    summary(rs)
  end

  defp summary(rs) do
    sorted = Enum.sort(rs)

    %{
      "us" => Float.round(hd(sorted), 2),
      "us_median" => Float.round(Enum.at(sorted, div(length(sorted), 2)), 2)
    }
  end

  defp round_us(fun, ms) do
    stop = System.monotonic_time(:nanosecond) + ms * 1_000_000
    t0 = System.monotonic_time(:nanosecond)
    n = loop(fun, stop, 0)
    (System.monotonic_time(:nanosecond) - t0) / 1000 / n
  end

  defp loop(fun, stop, n) do
    fun.()
    fun.()
    fun.()
    fun.()
    if System.monotonic_time(:nanosecond) < stop, do: loop(fun, stop, n + 4), else: n + 4
  end

  defp env_int(name, default) do
    case System.get_env(name) do
      nil -> default
      v -> String.to_integer(v)
    end
  end
end

JwksVerify.Bench.Growth.main()
