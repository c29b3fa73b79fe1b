# The cost of a hit in the cache's verified-token cache (`token_cache: true`):
# the same RS256 token verified again and again through a JwksVerify.Cache,
# which after the first verification answers from its protected ETS table
# (SHA-256 of the token, one lookup, exp/nbf/iat checked again) without the
# signature. Prints µs per hit, the median of several rounds, for the
# Elixir and the Erlang entry points, and a full verification for scale:
# wall-clock time, and the VM's CPU time (statistics(runtime), which leaves
# out the time other programs on a shared machine take from us).
#
#     mix run bench/token_cache.exs
#
# TOKEN_CACHE_ROUNDS (11) rounds of TOKEN_CACHE_N (100_000) hits each.

defmodule JwksVerify.Bench.TokenCache do
  @name :jwks_verify_bench_token_cache

  def main do
    rounds = env_int("TOKEN_CACHE_ROUNDS", 11)
    n = env_int("TOKEN_CACHE_N", 100_000)

    key = :jwks_verify_signer.generate_key("RS256", %{kid: "bench"})
    now = System.system_time(:second)

    claims = %{
      "sub" => "user-1",
      "iss" => "https://issuer.example/",
      "aud" => "my-api",
      "iat" => now - 5,
      "exp" => now + 3600
    }

    token = :jwks_verify_signer.sign(claims, key, %{})
    jwks = :jwks_verify_signer.jwks([key])
    opts = JwksVerify.options(iss: "https://issuer.example/", aud: "my-api")
    erl_opts = opts.prepared

    {:ok, _} = JwksVerify.Cache.start_link(name: @name, jwks: jwks, token_cache: true)
    {:ok, _} = JwksVerify.verify(token, @name, opts)
    # The cache process writes the entry after verifying the token itself.
    wait_for_entry()

    {:ok, plain} = JwksVerify.key_set(jwks)

    paths = [
      {"hit, JwksVerify.verify/3 (cache name)", fn -> JwksVerify.verify(token, @name, opts) end},
      {"hit, :jwks_verify.verify/3 (cache name)",
       fn -> :jwks_verify.verify(token, @name, erl_opts) end},
      {"no token cache: full RS256 verification", fn -> JwksVerify.verify(token, plain, opts) end}
    ]

    IO.puts("token cache, #{rounds} rounds of #{n} calls (the last path: #{div(n, 20)}), median:")

    for {label, fun} <- paths do
      calls = if label =~ "full", do: div(n, 20), else: n
      {:ok, _} = fun.()
      timed = for _ <- 1..rounds, do: round_us(fun, calls)
      wall = timed |> Enum.map(&elem(&1, 0)) |> median()
      cpu = timed |> Enum.map(&elem(&1, 1)) |> median()

      IO.puts(
        "  #{String.pad_trailing(label, 42)} #{format(wall)} µs wall, #{format(cpu)} µs CPU"
      )
    end

    JwksVerify.Cache.info(@name).token_cache |> then(&IO.puts("  entries: #{&1.size}"))
    :ok = :jwks_verify_cache.stop(@name)
  end

  defp wait_for_entry(tries \\ 100) do
    case JwksVerify.Cache.info(@name).token_cache do
      %{size: 1} -> :ok
      _ when tries > 0 -> Process.sleep(10) && wait_for_entry(tries - 1)
      _ -> raise "the token cache never took the token"
    end
  end

  # {wall, CPU} µs per call over one round of `calls` calls.
  defp round_us(fun, calls) do
    {cpu0, _} = :erlang.statistics(:runtime)
    {us, :ok} = :timer.tc(fn -> loop(fun, calls) end)
    {cpu1, _} = :erlang.statistics(:runtime)
    {us / calls, (cpu1 - cpu0) * 1000 / calls}
  end

  defp format(us), do: :erlang.float_to_binary(us, decimals: 3)

  defp loop(_fun, 0), do: :ok

  defp loop(fun, k) do
    {:ok, _} = fun.()
    loop(fun, k - 1)
  end

  defp median(xs), do: xs |> Enum.sort() |> Enum.at(div(length(xs), 2))

  defp env_int(name, default) do
    case System.get_env(name) do
      nil -> default
      v -> String.to_integer(v)
    end
  end
end

JwksVerify.Bench.TokenCache.main()
