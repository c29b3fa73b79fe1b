# Guards the NIF's hygiene over time: 100 000 verifications (accepted and
# refused) and thousands of key sets parsed and dropped leave the BEAM's memory
# and the OS process's resident size where they were, and the NIF module
# survives being purged and reloaded with key sets alive across the reload
# (jiffy's jiffy_20_lifecycle_tests.erl). Not async: it measures the whole VM
# and reloads a module other tests call.
defmodule JwksVerify.MemoryTest do
  use ExUnit.Case, async: false

  import JwksVerify.TokenHelpers

  @now 1_700_000_100
  @mb 1024 * 1024
  @loops 100_000

  # A key set per test: the lifecycle tests leave earlier key sets unusable.
  setup do
    {:ok, ks} = JwksVerify.key_set(fixture_jwks())
    opts = JwksVerify.options(now: @now, algs: ["RS256", "ES256", "EdDSA"], aud: "api://default")
    %{ks: ks, opts: opts, token: fixture_token("rs256")}
  end

  describe "memory" do
    @tag timeout: 300_000
    # ASan's quarantine holds freed memory, so RSS is no measure under test-asan.
    @tag :asan_skip
    test "100 000 RS256 verifications do not grow memory", ctx do
      {beam, rss, us} =
        measure(fn -> {:ok, _} = JwksVerify.verify(ctx.token, ctx.ks, ctx.opts) end)

      report("#{@loops} RS256 verifications (#{Float.round(us / @loops, 1)} µs each)", beam, rss)
      assert beam < 5 * @mb
      assert rss < 10 * @mb
    end

    # ASan's quarantine holds freed memory, so RSS is no measure under test-asan.
    @tag timeout: 300_000
    @tag :asan_skip
    test "100 000 refusals of every kind do not grow memory", ctx do
      es = fixture_token("es256")

      tokens =
        List.to_tuple([
          {flip_signature_bit(ctx.token), :bad_signature},
          {fixture_token("rs256_1024"), :rsa_key_too_small},
          {es, :ok},
          {flip_signature_bit(es), :bad_signature},
          {fixture_token("ps256"), :alg_not_allowed},
          {unsigned_token(~s({"alg":"none"}), "{}"), :alg_none},
          {unsigned_token(~s({"alg":"RS256","kid":"nope"}), "{}", "sig"), :unknown_kid},
          {unsigned_token(~s({"alg":"RS256","alg":"RS256"}), "{}", "sig"), :bad_header},
          {String.duplicate("a", 40_000), :token_too_large},
          {binary_part(es, 0, 100), :malformed_token}
        ])

      n = tuple_size(tokens)

      {beam, rss, _} =
        measure(fn i ->
          {t, want} = elem(tokens, rem(i, n))

          case JwksVerify.verify(t, ctx.ks, ctx.opts) do
            {:ok, _} when want == :ok -> :ok
            {:error, ^want} -> :ok
          end
        end)

      report("#{@loops} mixed verifications", beam, rss)
      assert beam < 5 * @mb
      assert rss < 10 * @mb
    end

    @tag timeout: 300_000
    @tag :asan_skip
    test "5 000 key sets parsed and dropped are freed" do
      jwks = fixture_jwks()

      {beam, rss, _} =
        measure(5_000, fn ->
          {:ok, ks} = JwksVerify.key_set(jwks)
          ks
        end)

      report("5000 key sets of 7 keys", beam, rss)
      assert beam < 5 * @mb
      assert rss < 10 * @mb
    end
  end

  describe "lifecycle" do
    test "upgrade: loading the NIF module over itself keeps key sets working", ctx do
      claims = {:ok, _} = JwksVerify.verify(ctx.token, ctx.ks, ctx.opts)

      for round <- 1..3 do
        # The module is loaded again while loaded: the library's upgrade
        # callback runs and takes the key-set resource type over.
        assert :code.soft_purge(:jwks_verify_nif)
        assert {:module, :jwks_verify_nif} = :code.load_file(:jwks_verify_nif)
        assert {round, JwksVerify.verify(ctx.token, ctx.ks, ctx.opts)} == {round, claims}
        assert :code.soft_purge(:jwks_verify_nif), "old code still in use"
        assert {round, JwksVerify.verify(ctx.token, ctx.ks, ctx.opts)} == {round, claims}

        {:ok, fresh} = JwksVerify.key_set(fixture_jwks())
        assert {round, JwksVerify.verify(ctx.token, fresh, ctx.opts)} == {round, claims}
      end
    end

    test "fresh load: deleted and purged, the module loads again and verifies", ctx do
      claims = {:ok, _} = JwksVerify.verify(ctx.token, ctx.ks, ctx.opts)

      for round <- 1..3 do
        {:ok, before} = JwksVerify.key_set(fixture_jwks())
        assert :code.delete(:jwks_verify_nif)
        assert :code.soft_purge(:jwks_verify_nif), "old code still in use"
        refute :code.is_loaded(:jwks_verify_nif)
        assert {:module, :jwks_verify_nif} = :code.load_file(:jwks_verify_nif)

        {:ok, fresh} = JwksVerify.key_set(fixture_jwks())
        assert {round, JwksVerify.verify(ctx.token, fresh, ctx.opts)} == {round, claims}

        # ERTS drops a purged library's resource types from its registry, so
        # the new library cannot take them over: a key set made before the
        # purge is a foreign term now. That is a caller mistake, not a crash;
        # its destructor (in the old library, kept mapped) still runs.
        assert_raise ArgumentError, fn -> JwksVerify.verify(ctx.token, before, ctx.opts) end
      end

      :erlang.garbage_collect()
      {:ok, ks} = JwksVerify.key_set(fixture_jwks())
      assert JwksVerify.verify(ctx.token, ks, ctx.opts) == claims
    end
  end

  # Runs fun @loops (or n) times after a warm-up; returns the growth of
  # :erlang.memory(:total) and of VmRSS in bytes, and the run's time in µs.
  defp measure(n \\ @loops, fun) do
    call = if is_function(fun, 1), do: fun, else: fn _ -> fun.() end
    Enum.each(1..min(n, 2_000), call)
    {before_beam, before_rss} = snapshot()
    {us, :ok} = :timer.tc(fn -> Enum.each(1..n, call) end)
    {after_beam, after_rss} = snapshot()
    {after_beam - before_beam, after_rss - before_rss, us}
  end

  defp snapshot do
    for pid <- Process.list(), do: :erlang.garbage_collect(pid)
    {:erlang.memory(:total), rss()}
  end

  # Resident size in bytes from /proc (Linux); 0 elsewhere, so the RSS check is moot there.
  defp rss do
    case File.read("/proc/self/status") do
      {:ok, status} ->
        [_, kb] = Regex.run(~r/VmRSS:\s+(\d+) kB/, status)
        String.to_integer(kb) * 1024

      {:error, _} ->
        0
    end
  end

  defp report(what, beam, rss) do
    IO.puts("\n#{what}: BEAM memory #{signed_kb(beam)}, RSS #{signed_kb(rss)}")
  end

  defp signed_kb(bytes), do: "#{if bytes >= 0, do: "+", else: ""}#{div(bytes, 1024)} KiB"
end
