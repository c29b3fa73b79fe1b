# Guards the key set's life cycle under load: many processes verify while the
# key set they read from ETS is replaced over and over, and the replaced ones
# are dropped and garbage-collected, so NIF resources die while other
# processes still use theirs. Every answer must be exactly right for the key
# set that gave it. A use-after-free or double free shows here as a crash or a
# wrong answer, and under `make test-asan` as an ASan report (the :sanitizer
# test runs longer there).
defmodule JwksVerify.ConcurrencyTest do
  use ExUnit.Case, async: true

  alias :jwks_verify_signer, as: Signer

  @moduletag :concurrency
  @moduletag timeout: 600_000
  @now 1_700_000_000

  setup_all do
    rsa = Signer.generate_key("RS256", %{kid: "k"})
    ec = Signer.generate_key("ES256", %{kid: "k"})
    ed = Signer.generate_key("EdDSA", %{kid: "k"})
    claims = %{"sub" => "alice", "exp" => @now + 60}

    # Three generations of the issuer's keys under one kid, as in a rotation;
    # JWKs without alg, so a token meets its key's type first.
    jwk = fn key, kid -> %{Map.delete(Signer.public_jwk(key), "alg") | "kid" => kid} end

    docs = [
      {:rsa, Signer.jwks([jwk.(rsa, "k")])},
      {:ec, Signer.jwks([jwk.(ec, "k"), jwk.(rsa, "old")])},
      {:ed, Signer.jwks([jwk.(ed, "k")])}
    ]

    tokens = %{
      rsa: Signer.sign(claims, rsa),
      ec: Signer.sign(claims, ec),
      ed: Signer.sign(claims, ed)
    }

    # What each token gives against each generation's key set.
    expect = %{
      {:rsa, :rsa} => {:ok, claims},
      {:rsa, :ec} => {:error, :key_type_mismatch},
      {:rsa, :ed} => {:error, :key_type_mismatch},
      {:ec, :rsa} => {:error, :key_type_mismatch},
      {:ec, :ec} => {:ok, claims},
      {:ec, :ed} => {:error, :key_type_mismatch},
      {:ed, :rsa} => {:error, :key_type_mismatch},
      {:ed, :ec} => {:error, :key_type_mismatch},
      {:ed, :ed} => {:ok, claims}
    }

    opts = :jwks_verify.options(%{algs: ["RS256", "ES256", "EdDSA"], now: @now})
    %{docs: docs, tokens: tokens, expect: expect, opts: opts}
  end

  test "verifiers agree with the key set they read while it is replaced and collected", ctx do
    stress(ctx, verifiers: 24, rounds: 300, replacements: 400)
  end

  @tag :sanitizer
  test "the same, longer (make test-asan)", ctx do
    stress(ctx, verifiers: 48, rounds: 2_000, replacements: 5_000)
  end

  test "a key set shared by many processes outlives every one of them but the last", ctx do
    {_, doc} = hd(ctx.docs)

    for _ <- 1..50 do
      {:ok, ks} = :jwks_verify.key_set(doc)
      parent = self()

      pids =
        for _ <- 1..20 do
          spawn(fn ->
            receive do
              :go -> send(parent, {self(), :jwks_verify.verify(ctx.tokens.rsa, ks, ctx.opts)})
            end
          end)
        end

      # Only the processes hold the key set now; each verifies, answers and exits.
      Enum.each(pids, &send(&1, :go))
      :erlang.garbage_collect()

      for pid <- pids do
        assert_receive {^pid, {:ok, _}}, 5_000
      end
    end
  end

  defp stress(ctx, verifiers: n, rounds: rounds, replacements: replacements) do
    table = :ets.new(:key_sets, [:public, :set, read_concurrency: true])
    put = fn gen -> put_generation(table, ctx.docs, gen) end
    put.(0)
    parent = self()

    replacer =
      spawn_link(fn ->
        for gen <- 1..replacements do
          put.(gen)
          # Drop this process's references to the old sets at once.
          if rem(gen, 10) == 0, do: :erlang.garbage_collect()
        end

        send(parent, {:replacer, :done})
      end)

    tasks =
      for i <- 1..n do
        Task.async(fn -> verify_loop(table, ctx, rounds, i) end)
      end

    results = Task.await_many(tasks, :infinity)
    assert_receive {:replacer, :done}, 600_000
    refute Process.alive?(replacer)
    assert Enum.sum(results) == n * rounds * 3
    :ets.delete(table)
    :erlang.garbage_collect()
  end

  defp put_generation(table, docs, gen) do
    {name, doc} = Enum.at(docs, rem(gen, length(docs)))
    {:ok, ks} = :jwks_verify.key_set(doc)
    :ets.insert(table, {:current, name, ks})
  end

  # Each round reads the current set, checks all three tokens against it, and
  # now and then collects so this process lets go of the sets it has seen.
  defp verify_loop(table, ctx, rounds, i) do
    Enum.reduce(1..rounds, 0, fn round, acc ->
      [{:current, gen, ks}] = :ets.lookup(table, :current)

      ok =
        for {name, token} <- ctx.tokens, reduce: 0 do
          count ->
            got =
              if rem(round + i, 2) == 0,
                do: :jwks_verify.verify(token, ks, ctx.opts),
                else: jws_as_jwt(:jwks_verify.verify_jws(token, ks, ctx.opts))

            want = Map.fetch!(ctx.expect, {name, gen})

            if got == want,
              do: count + 1,
              else: flunk("#{name} token against #{gen} set: #{inspect(got)}")
        end

      if rem(round, 25) == 0, do: :erlang.garbage_collect()
      acc + ok
    end)
  end

  defp jws_as_jwt({:ok, %{payload: payload}}), do: {:ok, :jiffy.decode(payload, [:return_maps])}
  defp jws_as_jwt(other), do: other
end
