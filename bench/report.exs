# Joins what bench/run.sh measured into bench/RESULTS.md and bench/results.json
# (and bench/results.svg and bench/growth.svg when gnuplot is installed).
# bench/baseline.json holds the figures of the run before issue 16, which the
# targets that say "keeps its ratio" and the callgrind table compare with.
#
#     elixir bench/report.exs OUT_DIR DEST_DIR
#
# Every ratio is taken against the OpenSSL floor measured by bench/floor.c in
# the same run, on the same token.
defmodule JwksVerify.Bench.Report do
  @algs ~w(RS256 RS512 PS256 ES256 EdDSA)
  @alg_titles %{
    "RS256" => "RS256 (RSA 2048)",
    "RS512" => "RS512 (RSA 4096)",
    "PS256" => "PS256 (RSA 2048)",
    "ES256" => "ES256 (P-256)",
    "EdDSA" => "EdDSA (Ed25519)"
  }

  def main([out, dest]) do
    floor = jsonl(out, "floor.jsonl") |> Map.new(&{&1["alg"], &1})
    floor_after = jsonl(out, "floor_after.jsonl") |> Map.new(&{&1["alg"], &1})
    peers = jsonl(out, "peers.jsonl") |> Map.new(&{&1["alg"], &1})
    node = jsonl(out, "node.jsonl") |> Map.new(&{&1["alg"], &1})
    beam = read_json(out, "beam.json") || %{}
    growth = read_json(out, "growth.json")
    baseline = read_json(dest, "baseline.json") || %{}
    callgrind = callgrind(out)
    skipped = read(out, "skipped.txt") |> lines()
    cores = jsonl(out, "cores_check.jsonl") |> Enum.map(&cores_given/1)

    env =
      Map.merge(beam["env"] || %{}, %{
        "openssl" => (read_json(out, "openssl.json") || %{})["openssl"],
        "node" => read(out, "node.version") |> trim(),
        "node_jose" => read(out, "node_jose.version") |> trim(),
        "debian_packages" => read(out, "debs.txt") |> lines(),
        "kernel" => read(out, "uname.txt") |> trim(),
        "load_start" => read(out, "loadavg.start") |> load1(),
        "load_end" => read(out, "loadavg.end") |> load1(),
        "seconds" => read(out, "seconds") |> trim() |> to_int(),
        "date" => DateTime.utc_now() |> DateTime.truncate(:second) |> DateTime.to_iso8601(),
        "round_ms" => beam["round_ms"],
        "rounds" => beam["rounds"]
      })

    rows = rows(floor, peers, node, beam, "min")
    ratios = ratios(rows, floor, "min")
    rows_med = rows(floor, peers, node, beam, "median")
    ratios_med = ratios(rows_med, floor, "median")

    targets =
      targets16({rows, ratios}, {rows_med, ratios_med}, callgrind, beam, baseline) ++
        targets({rows, ratios}, {rows_med, ratios_med}, callgrind, beam)

    profile = profile(out, callgrind)

    results = %{
      "env" => env,
      "statistic" => "fastest round; the median round under *_median",
      "us_per_op" => rows,
      "over_floor" => round_all(ratios),
      "us_per_op_median" => rows_med,
      "over_floor_median" => round_all(ratios_med),
      "beam_over_paired_floor" => paired_ratios(beam),
      "floor_after_us" => us(get_in(floor_after, ["RS256", "floor_ns"])),
      "callgrind" => callgrind,
      "throughput" => beam["throughput"],
      "cores_check" => cores,
      "node_jose_64_in_flight_us" =>
        Map.new(node, fn {alg, r} -> {alg, us(r["node_jose_64_ns"])} end),
      "memory" => beam["memory"],
      "targets" => targets,
      "profile_rs256_core" => profile,
      "growth" => growth,
      "baseline" => baseline,
      "skipped" => skipped
    }

    chart? = chart(rows, dest)
    growth_chart? = growth && growth_chart(growth, dest)
    md = markdown(results, chart?, growth_chart?)
    File.write!(Path.join(dest, "RESULTS.md"), md)
    File.write!(Path.join(dest, "results.json"), :jiffy.encode(results, [:pretty]))
    IO.puts(md)
  end

  ## Figures: %{path => %{alg => µs | nil}}, one map per verifier.

  @paths [
    {"floor", "OpenSSL floor",
     "`EVP_DigestVerifyInit` + `EVP_DigestVerify`, key and digest prebuilt"},
    {"copy", "OpenSSL, context copied",
     "`EVP_MD_CTX_copy_ex` from a context initialised once per key, then `EVP_DigestVerify`: a lower floor"},
    {"core", "jwks_verify C core",
     "`jv_jwt_verify`: split, base64url, header and claims JSON, kid lookup, signature, claim checks"},
    {"jwks_verify", "jwks_verify from Elixir",
     "`JwksVerify.verify/3`, key set in hand, options prepared once (the NIF on the calling scheduler, claims map built)"},
    {"jwks_verify_keyword", "jwks_verify, keyword options",
     "the same, options given as a keyword list on every call"},
    {"jwks_verify_dirty", "jwks_verify on a dirty scheduler",
     "`JwksVerify.verify/3` with `verify_scheduler: :dirty`: every verification hops to a dirty CPU scheduler"},
    {"cache", "jwks_verify through the cache",
     "`JwksVerify.verify(token, CacheName, opts)`: ETS lookup, then the above"},
    {"guard", "jwks_verify through the guard",
     "`:jwks_verify_guard.check/3` (the Plug's and httpd's decision): request headers in, claims out, through the cache"},
    {"guard_token_cache", "the guard, verified-token cache hit",
     "the same through a cache with `token_cache: true`: the token was verified before, its entry is checked again (exp, nbf)"},
    {"public_key", "`:public_key.verify/4`",
     "OTP's signature check alone on the signing input (the OTP floor)"},
    {"jose", "erlang-jose, key in hand",
     "`jose_jwt:verify_strict/3` with the right JWK pre-parsed; no claim checks"},
    {"jose_app", "erlang-jose, as an app does",
     "peek the header, pick the pre-parsed JWK by kid, `verify_strict`, check exp/nbf/iss/aud"},
    {"cjose", "cjose (C)",
     "`cjose_jws_import` + `cjose_jws_verify`, JWK in hand; JWS only, no claims"},
    {"libjwt", "libjwt (C)",
     "`jwt_decode` with the PEM key (parsed on every call by its API) + exp/iss/aud"},
    {"node_jose", "Node jose v5",
     "`jwtVerify` with `createLocalJWKSet`, iss/aud/exp; one verify awaited at a time"}
  ]

  # stat: "min" (the fastest round) or "median" (the median round).
  defp rows(floor, peers, node, beam, stat) do
    paths = beam["paths"] || %{}
    sfx = if stat == "min", do: "_min", else: ""

    for {key, _, _} <- @paths, into: %{} do
      {key,
       for alg <- @algs, into: %{} do
         ns =
           case key do
             "floor" -> get_in(floor, [alg, "floor_ns" <> sfx])
             "core" -> get_in(floor, [alg, "core_ns" <> sfx])
             "copy" -> get_in(floor, [alg, "copy_ns" <> sfx])
             k when k in ["cjose", "libjwt"] -> get_in(peers, [alg, k <> "_ns" <> sfx])
             "node_jose" -> get_in(node, [alg, "node_jose_ns" <> sfx])
             k -> get_in(paths, [alg, k, "ns" <> sfx])
           end

         {alg, us(ns)}
       end}
    end
  end

  # Ratios to the floor the C program measured at the start of the run (same
  # statistic); the C core's median ratio comes from its rounds interleaved
  # with the floor's in one process.
  defp ratios(rows, floor, stat) do
    for {key, _, _} <- @paths, into: %{} do
      {key,
       for alg <- @algs, into: %{} do
         interleaved =
           if key == "core" and stat == "median", do: get_in(floor, [alg, "core_over_floor"])

         {alg, interleaved || plain_ratio(rows, key, alg)}
       end}
    end
  end

  # The BEAM paths' ratios to floor rounds run between their own rounds, while
  # the VM was up (its idle schedulers spin for a while and share the cores, so
  # these floor rounds run slower than the floor at the start: kept for
  # reference, not used in the tables).
  defp paired_ratios(beam) do
    for {alg, paths} <- beam["paths"] || %{}, into: %{} do
      {alg,
       for {path, r} <- paths, r["over_floor"], into: %{} do
         {path, %{"fastest_round" => r["over_floor_min"], "median_round" => r["over_floor"]}}
       end}
    end
  end

  defp plain_ratio(rows, key, alg) do
    with x when is_number(x) <- get_in(rows, [key, alg]),
         f when is_number(f) <- get_in(rows, ["floor", alg]) do
      x / f
    else
      _ -> nil
    end
  end

  ## Instruction counts: totals of the runs under --toggle-collect, per verification.

  defp callgrind(out) do
    n = read(out, "callgrind.n") |> trim() |> to_int()

    if n do
      for alg <- @algs, into: %{} do
        f = cg_total(out, alg, "floor")
        c = cg_total(out, alg, "core")
        cp = cg_total(out, alg, "copy")

        {alg,
         %{
           "floor" => f && div(f, n),
           "copy" => cp && div(cp, n),
           "core" => c && div(c, n),
           "core_over_floor" => f && c && Float.round(c / f, 4),
           "verifications" => n
         }}
      end
    else
      %{}
    end
  end

  defp cg_total(out, alg, which) do
    case read(out, "callgrind.#{alg}.#{which}.out") do
      nil ->
        nil

      text ->
        Regex.run(~r/^totals: (\d+)/m, text) |> then(&(&1 && String.to_integer(Enum.at(&1, 1))))
    end
  end

  # Inclusive instructions per verification of the core's own functions and of
  # the library calls they make, from callgrind_annotate --inclusive=yes.
  defp profile(out, callgrind) do
    n = get_in(callgrind, ["RS256", "verifications"])
    text = read(out, "profile.RS256.core.txt")

    if n && text do
      Regex.scan(~r/^\s*([\d,]+) \([\s\d.]+%\)\s+(\S+):(\S+) \[([^\]]+)\]$/m, text)
      |> Enum.map(fn [_, count, file, fun, obj] ->
        {String.replace(fun, ~r/('\d+|\.part\.\d+|\.constprop\.\d+|\.isra\.\d+)$/, ""), file,
         Path.basename(obj), div(String.to_integer(String.replace(count, ",", "")), n)}
      end)
      |> Enum.filter(fn {fun, file, obj, _} ->
        String.contains?(file, "c_src/") or obj =~ "cjson" or
          fun in ~w(EVP_DigestVerify EVP_DigestVerifyInit EVP_MD_CTX_new EVP_MD_CTX_free malloc free)
      end)
      |> Enum.uniq_by(fn {fun, _, _, _} -> fun end)
      |> Enum.reject(fn {fun, _, _, _} -> fun =~ ~r/^0x/ end)
      |> Enum.take(30)
      |> Enum.map(fn {fun, file, obj, per_op} ->
        %{
          "function" => fun,
          "where" => if(String.contains?(file, "c_src/"), do: file, else: obj),
          "instructions" => per_op
        }
      end)
    else
      []
    end
  end

  ## Targets of issue 16 (RS256 unless said; timing ones on the fastest rounds).

  defp targets16({rows, _ratios}, {rows_med, _ratios_med}, callgrind, _beam, baseline) do
    over_copy = fn r, path, alg ->
      div_or_nil(get_in(r, [path, alg]), get_in(r, ["copy", alg]))
    end

    base_over_copy = fn alg ->
      div_or_nil(
        get_in(baseline, ["over_floor", "jwks_verify", alg]),
        get_in(baseline, ["over_floor", "copy", alg])
      )
    end

    cg_ratio = fn cg, alg ->
      with %{"core" => c, "copy" => cp} when is_integer(c) and is_integer(cp) <- cg[alg] || %{},
           do: c / cp,
           else: (_ -> nil)
    end

    hit = get_in(rows, ["guard_token_cache", "RS256"])
    hit_med = get_in(rows_med, ["guard_token_cache", "RS256"])

    ([
       target(
         "C core instructions ≤ 1.05× the copied-context floor (callgrind)",
         cg_ratio.(callgrind, "RS256"),
         nil,
         &(&1 <= 1.05),
         "×"
       ),
       target(
         "C core µs ≤ cjose's (same run; figure: core / cjose)",
         div_or_nil(get_in(rows, ["core", "RS256"]), get_in(rows, ["cjose", "RS256"])),
         div_or_nil(get_in(rows_med, ["core", "RS256"]), get_in(rows_med, ["cjose", "RS256"])),
         &(&1 <= 1.0),
         "×"
       ),
       target(
         "`JwksVerify.verify/3`, key set in hand, ≤ 1.12× the copied-context floor",
         over_copy.(rows, "jwks_verify", "RS256"),
         over_copy.(rows_med, "jwks_verify", "RS256"),
         &(&1 <= 1.12),
         "×"
       ),
       target(
         "through the cache ≤ 1.03× `JwksVerify.verify/3` with a key set",
         div_or_nil(get_in(rows, ["cache", "RS256"]), get_in(rows, ["jwks_verify", "RS256"])),
         div_or_nil(
           get_in(rows_med, ["cache", "RS256"]),
           get_in(rows_med, ["jwks_verify", "RS256"])
         ),
         &(&1 <= 1.03),
         "×"
       ),
       target(
         "through the guard ≤ 1.03× `JwksVerify.verify/3` with a key set",
         div_or_nil(get_in(rows, ["guard", "RS256"]), get_in(rows, ["jwks_verify", "RS256"])),
         div_or_nil(
           get_in(rows_med, ["guard", "RS256"]),
           get_in(rows_med, ["jwks_verify", "RS256"])
         ),
         &(&1 <= 1.03),
         "×"
       ),
       target(
         "verified-token cache hit through the guard ≤ 1 µs",
         hit,
         hit_med,
         &(&1 <= 1.0),
         " µs"
       )
     ] ++
       Enum.flat_map(~w(RS512 PS256 ES256 EdDSA), fn alg ->
         before_cg = cg_ratio.(baseline["callgrind"] || %{}, alg)
         before_us = base_over_copy.(alg)

         [
           target(
             "#{@alg_titles[alg]}: C core instructions / copied floor ≤ before (#{fmt4(before_cg)}×)",
             cg_ratio.(callgrind, alg),
             nil,
             &(before_cg != nil and &1 <= before_cg),
             "×"
           ),
           target(
             "#{@alg_titles[alg]}: `JwksVerify.verify/3` / copied floor ≤ before (#{fmt4(before_us)}×)",
             over_copy.(rows, "jwks_verify", alg),
             over_copy.(rows_med, "jwks_verify", alg),
             &(before_us != nil and &1 <= before_us),
             "×"
           )
         ]
       end))
    |> Enum.map(&Map.put(&1, "issue", 16))
  end

  defp fmt4(nil), do: "?"
  defp fmt4(x), do: :erlang.float_to_binary(x * 1.0, decimals: 4)

  ## Targets of issue 9.

  # Each timing target is judged on the fastest rounds, and shown on the median
  # rounds too; the instruction, throughput and memory targets have one figure.
  defp targets({rows, ratios}, {rows_med, ratios_med}, callgrind, beam) do
    t = beam["throughput"] || %{}
    mem = beam["memory"] || %{}
    n = mem["verifications"] || "?"

    [
      {"jwks_verify from Elixir ≤ 1.25× the OpenSSL floor (RS256)",
       fn _r, q -> q["jwks_verify"]["RS256"] end, &(&1 <= 1.25), "×"},
      {"the same against the lower floor (context copied): ≤ 1.25×",
       fn r, _ ->
         div_or_nil(get_in(r, ["jwks_verify", "RS256"]), get_in(r, ["copy", "RS256"]))
       end, &(&1 <= 1.25), "×"},
      {"≥ 3× faster than JOSE as an app uses it (RS256)", fn r, _ -> speedup(r, "jose_app") end,
       &(&1 >= 3), "×"},
      {"≥ 3× faster than JOSE with the key in hand (RS256)", fn r, _ -> speedup(r, "jose") end,
       &(&1 >= 3), "×"},
      {"≥ 1.8× faster than `:public_key.verify/4` (RS256)",
       fn r, _ -> speedup(r, "public_key") end, &(&1 >= 1.8), "×"},
      {"cache + guard ≤ 1.10× `JwksVerify.verify/3` with a key set (RS256)",
       fn r, _ ->
         div_or_nil(get_in(r, ["guard", "RS256"]), get_in(r, ["jwks_verify", "RS256"]))
       end, &(&1 <= 1.10), "×"}
    ]
    |> Enum.map(fn {name, figure, ok?, unit} ->
      target(name, figure.(rows, ratios), figure.(rows_med, ratios_med), ok?, unit)
    end)
    |> Kernel.++([
      target(
        "C core instructions ≤ 1.10× bare `EVP_DigestVerify` (RS256, callgrind)",
        get_in(callgrind, ["RS256", "core_over_floor"]),
        nil,
        &(&1 <= 1.10),
        "×"
      ),
      target(
        "the same against the lower floor (context copied): ≤ 1.10×",
        with(
          %{"core" => c, "copy" => cp} when is_integer(c) and is_integer(cp) <-
            get_in(callgrind, ["RS256"]) || %{},
          do: c / cp,
          else: (_ -> nil)
        ),
        nil,
        &(&1 <= 1.10),
        "×"
      ),
      target(
        "2-scheduler throughput ≥ 1.8× one scheduler (RS256)",
        t["scaling_2_over_1"],
        nil,
        &(&1 >= 1.8),
        "×"
      ),
      target(
        "BEAM total growth after #{n} verifications < 5 MB",
        mb_or_nil(mem["beam_total_growth_bytes"]),
        nil,
        &(&1 < 5),
        " MB"
      ),
      target(
        "RSS growth after #{n} verifications < 5 MB",
        mb_or_nil(mem["rss_growth_bytes"]),
        nil,
        &(&1 < 5),
        " MB"
      )
    ])
    |> Enum.map(&Map.put(&1, "issue", 9))
  end

  defp speedup(rows, other),
    do: div_or_nil(get_in(rows, [other, "RS256"]), get_in(rows, ["jwks_verify", "RS256"]))

  defp target(name, value, median, ok?, unit) do
    %{
      "target" => name,
      "figure" => value && Float.round(value * 1.0, 3),
      "figure_median" => median && Float.round(median * 1.0, 3),
      "unit" => String.trim(unit),
      "met" => value && ok?.(value),
      "met_median" => median && ok?.(median)
    }
  end

  defp div_or_nil(a, b) when is_number(a) and is_number(b) and b > 0, do: a / b
  defp div_or_nil(_, _), do: nil
  defp mb_or_nil(b) when is_number(b), do: b / 1_048_576
  defp mb_or_nil(_), do: nil

  ## Markdown

  defp markdown(r, chart?, growth_chart?) do
    env = r["env"]
    rows = r["us_per_op"]
    med = r["us_per_op_median"]

    [
      "# Benchmark results\n\n",
      "Written by `make bench` (bench/run.sh) on #{env["date"]}, in #{env["seconds"] || "?"} s. ",
      "Every token is signed by OTP's `:public_key` (bench/fixtures.exs); every verifier checks the same token, ",
      "one verification at a time. Each figure comes from #{env["rounds"]} rounds of #{env["round_ms"]} ms after a ",
      "warm-up round: **µs/op is the fastest round** (on a shared machine, the round other tenants disturbed least), ",
      "the median round is beside it. Ratios (× floor) are to the OpenSSL floor measured at the start of the same run, ",
      "same statistic (the C core's median ratio: its rounds alternate with the floor's in one process). ",
      "The BEAM paths were also paired round by round with floor rounds run while the VM was up; ",
      "those ratios, a little lower, are in results.json.\n\n",
      "- Machine: #{env["cpu"]}, #{env["cores"]} cores#{if env["kernel"], do: ", Linux #{env["kernel"]}"}\n",
      "- OpenSSL: #{env["openssl"]} (OTP crypto: #{env["otp_crypto_lib"]})\n",
      "- OTP #{env["otp"]} (erts #{env["erts"]}), Elixir #{env["elixir"]}, erlang-jose #{env["jose"]}\n",
      "- Node #{env["node"] || "(not run)"}, jose #{env["node_jose"] || "(not run)"}\n",
      if(env["debian_packages"] != [],
        do: "- Debian: #{Enum.join(env["debian_packages"], ", ")}\n",
        else: ""
      ),
      "- Load average (1 min) at the start and the end: #{env["load_start"] || "?"}, #{env["load_end"] || "?"}\n",
      "- OpenSSL floor, RS256 (median round): #{fmt(med["floor"]["RS256"])} µs at the start, ",
      "#{fmt(r["floor_after_us"])} µs at the end of the run (drift check)\n\n",
      "## RS256, RSA 2048\n\n",
      "| verifier | per token | µs/op | × floor | median µs/op | × floor |\n|---|---|---:|---:|---:|---:|\n",
      @paths
      |> Enum.filter(fn {key, _, _} -> get_in(rows, [key, "RS256"]) end)
      |> Enum.map(fn {key, name, what} ->
        "| #{name} | #{what} | #{fmt(rows[key]["RS256"])} | #{fmt_ratio(r["over_floor"][key]["RS256"])} " <>
          "| #{fmt(med[key]["RS256"])} | #{fmt_ratio(r["over_floor_median"][key]["RS256"])} |\n"
      end),
      if(chart?, do: "\n![µs per RS256 verification](results.svg)\n", else: ""),
      "\n## Every algorithm\n\nµs per verification, fastest round (× the floor of that algorithm); ",
      "— where the verifier lacks the algorithm or the path was measured for RS256 only. ",
      "Median rounds are in results.json.\n\n",
      "| verifier | " <> Enum.map_join(@algs, " | ", &@alg_titles[&1]) <> " |\n",
      "|---|" <> String.duplicate("---:|", length(@algs)) <> "\n",
      @paths
      |> Enum.filter(fn {key, _, _} -> Enum.any?(@algs, &get_in(rows, [key, &1])) end)
      |> Enum.map(fn {key, name, _} ->
        "| #{name} | " <>
          Enum.map_join(@algs, " | ", fn alg ->
            case rows[key][alg] do
              nil -> "—"
              v when key == "floor" -> fmt(v)
              v -> "#{fmt(v)} (#{fmt_ratio(r["over_floor"][key][alg])})"
            end
          end) <> " |\n"
      end),
      callgrind_md(r["callgrind"], r["baseline"]["callgrind"]),
      scheduler_md(rows, med, r["throughput"]),
      throughput_md(r["throughput"], r["node_jose_64_in_flight_us"], r["cores_check"]),
      memory_md(r["memory"]),
      growth_md(r["growth"], growth_chart?),
      "\n## Targets (issue 16)\n\nRS256 unless said. Timing targets are judged on the fastest rounds; ",
      "the median rounds are shown too. \"Before\" is bench/baseline.json (the run before issue 16).\n\n",
      targets_md(Enum.filter(r["targets"], &(&1["issue"] == 16))),
      "\n## Earlier targets (issue 9)\n\n",
      targets_md(Enum.filter(r["targets"], &(&1["issue"] == 9))),
      profile_md(r["profile_rs256_core"], r["baseline"]["profile_rs256_core"]),
      if(r["skipped"] != [],
        do: "\n## Skipped\n\n" <> Enum.map_join(r["skipped"], "", &"- #{&1}\n"),
        else: ""
      ),
      "\n## Reproduce\n\n```\nmake bench                 # about 5 minutes on 2 cores; writes this file, bench/results.json and the charts\n",
      "BENCH_QUICK=1 make bench   # a smoke run, figures meaningless\n```\n"
    ]
    |> IO.iodata_to_binary()
  end

  defp targets_md(ts) do
    [
      "| target | this run | median rounds | met |\n|---|---:|---:|---|\n",
      Enum.map(ts, fn t ->
        "| #{t["target"]} | #{figure(t["figure"], t["unit"])} | " <>
          "#{if t["figure_median"], do: figure(t["figure_median"], t["unit"]), else: ""} | " <>
          "#{met(t["met"])}#{if t["figure_median"] && t["met_median"] != t["met"], do: " (median rounds: #{met(t["met_median"])})"} |\n"
      end)
    ]
  end

  # Normal scheduler (the default for this token) against every verification
  # on a dirty CPU scheduler: one call at a time, and throughput.
  defp scheduler_md(rows, med, t) do
    auto = get_in(rows, ["jwks_verify", "RS256"])
    dirty = get_in(rows, ["jwks_verify_dirty", "RS256"])
    variants = (t || %{})["variants"] || %{}

    if auto && dirty do
      [
        "\n## Scheduler: normal or dirty (RS256)\n\n",
        "`verify_scheduler: :auto` (the default) runs this token on the calling normal scheduler; ",
        "`:dirty` sends every verification to a dirty CPU scheduler (README \"Scheduler usage\").\n\n",
        "| | µs per call | median round | tokens/s, 1 scheduler | tokens/s, 2 schedulers |\n",
        "|---|---:|---:|---:|---:|\n",
        for {label, path, v} <- [
              {"`:auto` (normal scheduler)", "jwks_verify", "key_set"},
              {"`:dirty`", "jwks_verify_dirty", "key_set_dirty"}
            ] do
          by = get_in(variants, [v, "by_schedulers"]) || %{}

          "| #{label} | #{fmt(get_in(rows, [path, "RS256"]))} | #{fmt(get_in(med, [path, "RS256"]))} | " <>
            "#{tps(by["1"])} | #{tps(by["2"])} |\n"
        end,
        "\nThe hop costs #{fmt(dirty - auto)} µs per call here (#{fmt_ratio(dirty / auto)}).\n"
      ]
    else
      ""
    end
  end

  defp tps(%{"tokens_per_s" => x}), do: group(round(x))
  defp tps(_), do: "—"

  ## How the cost grows (bench/growth.exs)

  defp growth_md(nil, _), do: ""

  defp growth_md(g, chart?) do
    [
      "\n## How the cost grows\n\n",
      "bench/growth.exs: µs per call, fastest of #{g["rounds"]} rounds of #{g["round_ms"]} ms (median beside), ",
      "on the scheduler the NIF picks for the call.",
      if(chart?, do: "\n\n![How the cost grows](growth.svg)\n", else: "\n"),
      "\n### Keys in the set (RS256, RSA-2048 keys)\n\n",
      "| keys | with a kid | no kid, signing key first | no kid, signing key fifth (refused after 4 tries) |\n",
      "|---:|---:|---:|---:|\n",
      Enum.map(g["keys"], fn r ->
        "| #{group(r["keys"])} | #{gus(r["kid"])} | #{gus(r["no_kid_first"])} | #{gus(r["no_kid_beyond_4"])} |\n"
      end),
      "\n### Token size (RS256)\n\n",
      "| token | bytes | scheduler | µs | median µs |\n|---|---:|---|---:|---:|\n",
      Enum.map(g["token_size"], fn r ->
        what =
          if r["kind"] == "members",
            do: "#{r["n"]} claims (members)",
            else: "#{r["n"]} KiB (one padding claim)"

        "| #{what} | #{group(r["bytes"])} | #{r["scheduler"]} | #{fmt(r["us"])} | #{fmt(r["us_median"])} |\n"
      end),
      "\n### Key set parsing (`key_set/1`, dirty CPU scheduler), µs per key\n\n",
      "| key type | " <> Enum.map_join(jwks_counts(g), " | ", &"#{group(&1)} keys") <> " |\n",
      "|---|" <> String.duplicate("---:|", length(jwks_counts(g))) <> "\n",
      for type <- Enum.uniq(Enum.map(g["jwks"]["parse"], & &1["type"])) do
        "| #{type} | " <>
          Enum.map_join(jwks_counts(g), " | ", fn n ->
            case Enum.find(g["jwks"]["parse"], &(&1["type"] == type and &1["keys"] == n)) do
              %{"us_per_key" => u} -> fmt(u)
              %{"error" => e, "bytes" => b} -> "#{e} (#{Float.round(b / 1_048_576, 1)} MiB)"
              _ -> "—"
            end
          end) <> " |\n"
      end,
      "\nA cache's refetch (`JwksVerify.Cache.refresh/1` against a loopback HTTP issuer): the fetch and ",
      "`key_set/1` run in a process of their own, the cache process only installs the result.\n\n",
      "| key set | refresh took | the cache process's longest answer meanwhile |\n|---|---:|---:|\n",
      Enum.map(g["jwks"]["refetch"], fn r ->
        if r["error"],
          do: "| #{group(r["keys"])} #{r["type"]} keys | #{r["error"]} | |\n",
          else:
            "| #{group(r["keys"])} #{r["type"]} keys | #{r["refresh_ms"]} ms | #{r["longest_call_ms"]} ms |\n"
      end),
      "\n### Refused tokens (RS256, key set in hand)\n\n",
      "What making such a token costs an attacker (changing one character of a token seen once): ",
      "#{fmt(hd(g["refusals"])["attacker_us"])} µs.\n\n",
      "| reason | token | µs per refusal | median µs |\n|---|---|---:|---:|\n",
      Enum.map(g["refusals"], fn r ->
        "| `#{r["got"]}` | #{r["what"]} | #{fmt(r["us"])} | #{fmt(r["us_median"])} |\n"
      end),
      "\n### The longest a verification holds a normal scheduler\n\n",
      "Tokens up to 8 KiB against keys up to RSA-4096 stay on the calling normal scheduler; ",
      "each call timed alone, 300 calls.\n\n",
      "| token | bytes | answer | fastest µs | median µs | slowest µs |\n|---|---:|---|---:|---:|---:|\n",
      Enum.map(g["normal_hold"], fn r ->
        "| #{r["what"]} | #{group(r["bytes"])} | #{r["result"]} | #{fmt(r["fastest_us"])} | " <>
          "#{fmt(r["median_us"])} | #{fmt(r["slowest_us"])} |\n"
      end)
    ]
  end

  defp jwks_counts(g), do: g["jwks"]["parse"] |> Enum.map(& &1["keys"]) |> Enum.uniq()
  defp gus(nil), do: "—"
  defp gus(%{"us" => u, "us_median" => m}), do: "#{fmt(u)} (#{fmt(m)})"

  defp figure(nil, _unit), do: "not measured"
  defp figure(v, unit), do: "#{v}#{unit(unit)}"

  defp callgrind_md(cg, before) when map_size(cg) > 0 do
    before = before || %{}

    [
      "\n## Instructions per verification (callgrind)\n\n",
      "Counted by `valgrind --tool=callgrind --toggle-collect` around a loop of #{cg["RS256"]["verifications"]} verifications ",
      "after a warm-up; stable from run to run, unlike time on a shared machine. ",
      "\"Before\": the C core in the run before issue 16 (bench/baseline.json; its floors were within a few ",
      "hundred instructions of these).\n\n",
      "| algorithm | OpenSSL floor | context copied | C core | core − copied | core / floor | core / copied | C core before | before / copied |\n",
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
      Enum.map(Enum.filter(@algs, &(cg[&1]["floor"] && cg[&1]["core"])), fn alg ->
        c = cg[alg]
        b = before[alg] || %{}
        copy = if c["copy"], do: group(c["copy"]), else: "—"
        over_copy = if c["copy"], do: Float.round(c["core"] / c["copy"], 4), else: "—"
        extra = if c["copy"], do: group(c["core"] - c["copy"]), else: "—"
        b_core = if b["core"], do: group(b["core"]), else: "—"

        b_ratio = if b["core"] && b["copy"], do: Float.round(b["core"] / b["copy"], 4), else: "—"

        "| #{@alg_titles[alg]} | #{group(c["floor"])} | #{copy} | #{group(c["core"])} | " <>
          "#{extra} | #{c["core_over_floor"]} | #{over_copy} | #{b_core} | #{b_ratio} |\n"
      end)
    ]
  end

  defp callgrind_md(_, _),
    do: "\n## Instructions per verification\n\nNot measured (valgrind missing).\n"

  defp throughput_md(%{"by_schedulers" => by} = t, node64, cores) do
    [
      "\n## Throughput (RS256, #{t["processes"]} processes verifying, best of 3 windows of #{t["window_ms"]} ms)\n\n",
      "Normal and dirty CPU schedulers online both set to n, and every VM thread pinned to n CPUs ",
      "(`taskset -a`), so that one scheduler means one core.\n\n",
      "| schedulers | CPUs | tokens/s | each window |\n|---|---|---:|---|\n",
      Enum.map(Enum.sort(by), fn {n, v} ->
        windows = Enum.map_join(v["windows_tokens_per_s"] || [], ", ", &group(round(&1)))
        "| #{n} | #{v["cpus"] || "all"} | #{group(round(v["tokens_per_s"]))} | #{windows} |\n"
      end),
      variants_md(t["variants"]),
      "\nScaling, 2 schedulers over 1: #{t["scaling_2_over_1"] || "n/a"}×. ",
      "Cores the machine gave, from two floor processes run at once against one alone ",
      "(just before the BEAM step, and at the end): ",
      Enum.map_join(cores, ", ", &"#{&1["cores"] || "?"}"),
      " — the scaling cannot exceed that.",
      case node64["RS256"] do
        v when is_number(v) ->
          " For comparison, Node jose with 64 verifications in flight (libuv's thread pool, both cores): " <>
            "#{group(round(1.0e6 / v))} tokens/s (median round).\n"

        _ ->
          "\n"
      end
    ]
  end

  defp throughput_md(_, _, _), do: ""

  @variants [
    {"key_set", "`JwksVerify.verify/3`, key set in hand (`verify_scheduler: :auto`)"},
    {"key_set_dirty", "the same, `verify_scheduler: :dirty`"},
    {"guard", "`:jwks_verify_guard.check/3` through the cache"},
    {"guard_token_cache", "the same, the cache's verified-token cache on (hits)"}
  ]

  defp variants_md(v) when is_map(v) and map_size(v) > 1 do
    [
      "\nBy path (best window of each):\n\n",
      "| path | 1 scheduler | 2 schedulers | 2 over 1 |\n|---|---:|---:|---:|\n",
      for {key, label} <- @variants, Map.has_key?(v, key) do
        r = v[key]
        by = r["by_schedulers"] || %{}
        "| #{label} | #{tps(by["1"])} | #{tps(by["2"])} | #{r["scaling_2_over_1"] || "—"}× |\n"
      end
    ]
  end

  defp variants_md(_), do: ""

  # Two floor processes at once against one alone: how many cores the machine
  # actually gave (2.0 on an idle 2-core machine).
  defp cores_given(%{"alone" => %{"floor_ns" => alone}, "pair" => pair}) when pair != [] do
    pair_ns = Enum.sum(Enum.map(pair, & &1["floor_ns"])) / length(pair)

    %{
      "alone_us" => us(alone),
      "pair_us" => Enum.map(pair, &us(&1["floor_ns"])),
      "cores" => Float.round(min(length(pair) * alone / pair_ns, length(pair) * 1.0), 2)
    }
  end

  defp cores_given(_), do: %{"cores" => nil}

  defp memory_md(%{"before" => b, "after" => a} = m) do
    [
      "\n## Memory (#{group(m["verifications"])} RS256 verifications on 2 schedulers, #{Float.round(m["seconds"] * 1.0, 1)} s)\n\n",
      "| | before | after | growth |\n|---|---:|---:|---:|\n",
      "| BEAM total (`:erlang.memory(:total)`) | #{mbs(b["beam_total_bytes"])} | #{mbs(a["beam_total_bytes"])} | #{mbs(m["beam_total_growth_bytes"])} |\n",
      "| RSS (`VmRSS`) | #{mbs(b["rss_bytes"])} | #{mbs(a["rss_bytes"])} | #{mbs(m["rss_growth_bytes"])} |\n"
    ]
  end

  defp memory_md(_), do: ""

  defp profile_md([], _), do: ""

  defp profile_md(p, before) do
    [
      "\n## Where the C core's instructions go (RS256, inclusive, per verification)\n\n",
      "What is left above the signature check (`jv_sig_key_verify`, the copied-context floor's own work):\n\n",
      "| function | in | instructions |\n|---|---|---:|\n",
      Enum.map(p, &"| `#{&1["function"]}` | #{&1["where"]} | #{group(&1["instructions"])} |\n"),
      if before && before != [] do
        [
          "\nBefore issue 16 (bench/baseline.json):\n\n",
          "| function | in | instructions |\n|---|---|---:|\n",
          Enum.map(
            before,
            &"| `#{&1["function"]}` | #{&1["where"]} | #{group(&1["instructions"])} |\n"
          )
        ]
      else
        ""
      end
    ]
  end

  ## Chart (optional)

  defp chart(rows, dest) do
    gnuplot = System.find_executable("gnuplot")

    if gnuplot do
      data =
        for {key, name, _} <- @paths, v = get_in(rows, [key, "RS256"]), into: "" do
          ~s("#{String.replace(name, "`", "")}" #{v}\n)
        end

      dat =
        Path.join(
          System.tmp_dir!(),
          "jwks_verify_bench_#{System.unique_integer([:positive])}.dat"
        )

      File.write!(dat, data)
      svg = Path.join(dest, "results.svg")

      n = data |> String.split("\n", trim: true) |> length()

      script = """
      set terminal svg size 900,#{120 + 28 * n} dynamic font "sans,11"
      set output '#{svg}'
      set title 'RS256 (RSA 2048): µs per verification, fastest round, lower is better'
      set style fill solid 0.8 border -1
      set xrange [0:*]
      set offsets 0, graph 0.1, 0, 0
      set yrange [#{n - 0.4}:-0.6]
      set ytics nomirror noenhanced
      set grid xtics
      set xlabel 'µs per verification'
      set lmargin 36
      set key off
      plot '#{dat}' using ($2/2):0:($2/2):(0.35):yticlabels(1) with boxxyerror lc rgb '#4a7ab5', \\
           '' using 2:0:(sprintf(' %.1f', $2)) with labels left
      """

      gp = Path.rootname(dat) <> ".gp"
      File.write!(gp, script)
      {output, status} = System.cmd(gnuplot, [gp], stderr_to_stdout: true)
      File.rm(dat)
      File.rm(gp)
      if status != 0, do: IO.puts(:stderr, "gnuplot failed, no chart:\n" <> output)
      status == 0 and File.exists?(svg)
    else
      File.rm(Path.join(dest, "results.svg"))
      false
    end
  end

  # Four panels in one SVG (gnuplot multiplot), as results.svg is drawn.
  defp growth_chart(g, dest) do
    gnuplot = System.find_executable("gnuplot")
    svg = Path.join(dest, "growth.svg")

    if gnuplot do
      block = fn name, rows ->
        "$#{name} << EOD\n" <> Enum.map_join(rows, "", &(Enum.join(&1, " ") <> "\n")) <> "EOD\n"
      end

      num = fn
        nil -> "NaN"
        %{"us" => u} -> u
        u -> u
      end

      keys =
        block.(
          "keys",
          for(
            r <- g["keys"],
            do: [r["keys"], num.(r["kid"]), num.(r["no_kid_first"]), num.(r["no_kid_beyond_4"])]
          )
        )

      size_rows = fn kind ->
        for r <- g["token_size"], r["kind"] == kind, do: [r["bytes"], r["us"]]
      end

      sizes = block.("members", size_rows.("members")) <> block.("kib", size_rows.("kib"))
      types = Enum.uniq(Enum.map(g["jwks"]["parse"], & &1["type"]))

      parse =
        types
        |> Enum.with_index()
        |> Enum.map_join(fn {type, i} ->
          block.(
            "t#{i}",
            for(
              r <- g["jwks"]["parse"],
              r["type"] == type,
              r["us_per_key"],
              do: [r["keys"], r["us_per_key"]]
            )
          )
        end)

      refusals = block.("ref", for(r <- g["refusals"], do: [~s("#{r["reason"]}"), r["us"]]))

      parse_plot =
        types
        |> Enum.with_index()
        |> Enum.map_join(", ", fn {type, i} ->
          "$t#{i} using 1:2 with linespoints pt 7 title '#{type}'"
        end)

      script = """
      set terminal svg size 1000,760 dynamic font "sans,11"
      set output '#{svg}'
      #{keys}#{sizes}#{parse}#{refusals}
      set multiplot layout 2,2 title 'How the cost grows (µs, fastest round, lower is better)'
      set grid
      set logscale x
      set key top left
      set xlabel 'keys in the set'
      set ylabel 'µs per RS256 verification'
      set yrange [0:*]
      set title 'Keys in the set'
      set key center right
      set pointsize 0.8
      plot $keys using 1:2 with linespoints pt 7 title 'with a kid', \\
           $keys using 1:3 with linespoints pt 5 title 'no kid, key first', \\
           $keys using 1:4 with linespoints pt 9 title 'no kid, key fifth (refused)'
      set title 'Token size (RS256)'
      set key top left
      set xlabel 'token bytes (over 8192: dirty scheduler)'
      set ylabel 'µs per verification'
      set arrow 1 from 8192, graph 0 to 8192, graph 1 nohead dt 2
      plot $members using 1:2 with linespoints pt 7 title '1 to 1000 claims', \\
           $kib using 1:2 with linespoints pt 5 title '1, 8, 32 KiB (one padding claim)'
      unset arrow 1
      set title 'key\\_set/1 per key'
      set xlabel 'keys in the document'
      set ylabel 'µs per key'
      plot #{parse_plot}
      unset logscale x
      set title 'Refused tokens (RS256)'
      set xlabel ''
      set ylabel 'µs per refusal'
      set style fill solid 0.8 border -1
      set boxwidth 0.6
      set xtics noenhanced font ",9"
      set key off
      plot $ref using 0:2:xtic(1) with boxes lc rgb '#4a7ab5', \\
           '' using 0:2:(sprintf('%.2f', $2)) with labels offset 0,0.7
      unset multiplot
      """

      gp =
        Path.join(
          System.tmp_dir!(),
          "jwks_verify_growth_#{System.unique_integer([:positive])}.gp"
        )

      File.write!(gp, script)
      {output, status} = System.cmd(gnuplot, [gp], stderr_to_stdout: true)
      File.rm(gp)
      if status != 0, do: IO.puts(:stderr, "gnuplot failed, no growth chart:\n" <> output)
      status == 0 and File.exists?(svg)
    else
      File.rm(svg)
      false
    end
  end

  ## Helpers

  defp round_all(m),
    do: Map.new(m, fn {k, v} -> {k, Map.new(v, fn {a, r} -> {a, r && Float.round(r, 4)} end)} end)

  defp us(ns) when is_number(ns), do: Float.round(ns / 1000, 2)
  defp us(_), do: nil
  defp fmt(nil), do: "—"
  defp fmt(v) when v >= 100, do: :erlang.float_to_binary(v * 1.0, decimals: 0)
  defp fmt(v), do: :erlang.float_to_binary(v * 1.0, decimals: 1)
  defp fmt_ratio(nil), do: "—"
  defp fmt_ratio(r), do: :erlang.float_to_binary(r, decimals: 2) <> "×"
  defp unit("×"), do: "×"
  defp unit(u), do: " " <> u
  defp met(true), do: "yes"
  defp met(false), do: "**no**"
  defp met(nil), do: "not measured"
  defp mbs(b) when is_number(b), do: :erlang.float_to_binary(b / 1_048_576, decimals: 2) <> " MB"
  defp mbs(_), do: "—"

  defp group(n) when is_integer(n) do
    s = Integer.to_string(abs(n))

    g =
      s
      |> String.reverse()
      |> String.graphemes()
      |> Enum.chunk_every(3)
      |> Enum.map_join(" ", &Enum.join/1)
      |> String.reverse()

    if n < 0, do: "−" <> g, else: g
  end

  defp read(dir, name) do
    case File.read(Path.join(dir, name)) do
      {:ok, s} -> s
      _ -> nil
    end
  end

  defp read_json(dir, name), do: (s = read(dir, name)) && :jiffy.decode(s, [:return_maps])

  defp jsonl(dir, name),
    do: read(dir, name) |> lines() |> Enum.map(&:jiffy.decode(&1, [:return_maps]))

  defp lines(nil), do: []
  defp lines(s), do: s |> String.split("\n", trim: true)
  defp trim(nil), do: nil
  defp trim(s), do: String.trim(s)
  defp load1(nil), do: nil
  defp load1(s), do: s |> String.split() |> hd()
  defp to_int(nil), do: nil
  defp to_int(s), do: String.to_integer(s)
end

JwksVerify.Bench.Report.main(System.argv())
