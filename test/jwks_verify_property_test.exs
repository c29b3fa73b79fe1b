# Guards what must hold over the whole input space, not only at the chosen
# points of the hostile corpus (PropEr, from Debian's erlang-proper):
#   * random claims, signed by an independent signer (:jwks_verify_signer, on
#     OTP's :public_key) with any of the ten algorithms, verify to exactly
#     those claims;
#   * any single-byte change of a valid token, and every truncation, is rejected;
#   * random payload bytes and header values round-trip through base64url and
#     verify_jws/3.
defmodule JwksVerify.PropertyTest do
  use ExUnit.Case, async: true
  import Bitwise

  # Shrinking a counterexample re-signs it many times.
  @moduletag timeout: 600_000

  alias :jwks_verify_signer, as: Signer

  @now 1_700_000_000
  @algs ~w(RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA)
  # Names with a meaning to the verifier stay out of the random claims.
  @registered ~w(exp nbf iat iss aud sub jti)

  setup_all do
    keys = for alg <- @algs, into: %{}, do: {alg, Signer.generate_key(alg, %{kid: alg})}
    jwks = Signer.jwks(Map.values(keys))
    {:ok, ks} = :jwks_verify.key_set(jwks)
    opts = :jwks_verify.options(%{algs: @algs, now: @now})
    claims = %{"sub" => "alice", "exp" => @now + 60, "scope" => "read write"}

    valid =
      for alg <- @algs, into: %{} do
        {alg, Signer.sign(claims, keys[alg])}
      end

    # For PropEr's forall: the context is not in scope inside its funs otherwise.
    :persistent_term.put(__MODULE__, %{keys: keys, ks: ks, opts: opts, valid: valid})
    on_exit(fn -> :persistent_term.erase(__MODULE__) end)
    %{keys: keys, ks: ks, opts: opts, valid: valid}
  end

  defp quickcheck(prop, numtests) do
    opts = [{:numtests, numtests}, {:max_shrinks, 60}, {:to_file, :user}]
    assert :proper.quickcheck(prop, opts) == true
  end

  ## Generators (PropEr types, built without its Erlang macros)

  defp let(type, fun), do: :proper_types.bind(type, fun, false)
  defp when_fail(report, prop), do: :proper.whenfail(fn -> report.() end, fn -> prop end)
  defp such_that(type, pred), do: :proper_types.add_constraint(type, pred, true)

  # Any Unicode text but NUL, which the JSON layer refuses on purpose (a
  # C string would end there; json.h).
  defp text, do: such_that(:proper_unicode.utf8(), &(not String.contains?(&1, <<0>>)))

  defp scalar do
    :proper_types.oneof([
      :proper_types.integer(-(1 <<< 63), (1 <<< 63) - 1),
      :proper_types.integer(-(1 <<< 120), 1 <<< 120),
      :proper_types.integer(),
      :proper_types.float(),
      :proper_types.oneof([1.0e20, 1.2345e22, -9.87e25, 5.0e-324, 1.7976931348623157e308]),
      text(),
      :proper_types.oneof([true, false, :null])
    ])
  end

  defp json_value(0), do: scalar()

  defp json_value(depth) do
    :proper_types.frequency([
      {6, scalar()},
      {1, :proper_types.resize(4, :proper_types.list(json_value(depth - 1)))},
      {1, json_object(depth - 1)}
    ])
  end

  defp json_object(depth) do
    let(:proper_types.resize(6, :proper_types.list({text(), json_value(depth)})), &Map.new/1)
  end

  # Random claims around a valid exp, with the other time claims sometimes present.
  defp claims do
    let(
      {json_object(3), :proper_types.integer(1, 1 <<< 40),
       :proper_types.oneof([nil, :proper_types.integer(0, 1000)])},
      fn {extra, ttl, back} ->
        base = extra |> Map.drop(@registered) |> Map.put("exp", @now + ttl)
        if back, do: Map.merge(base, %{"nbf" => @now - back, "iat" => @now - back}), else: base
      end
    )
  end

  ## Properties

  test "random claims signed with any algorithm verify to exactly those claims" do
    prop =
      :proper.forall({:proper_types.elements(@algs), claims()}, fn {alg, claims} ->
        %{keys: keys, ks: ks, opts: opts} = :persistent_term.get(__MODULE__)

        token = Signer.sign(claims, keys[alg])

        got = :jwks_verify.verify(token, ks, opts)

        when_fail(
          fn -> IO.puts("alg #{alg}\nclaims #{inspect(claims)}\ngot #{inspect(got)}") end,
          got === {:ok, claims}
        )
      end)

    quickcheck(prop, 300)
  end

  test "any single-byte change of a valid token is rejected" do
    prop =
      :proper.forall(
        {:proper_types.elements(@algs), :proper_types.float(0.0, 1.0), :proper_types.byte()},
        fn {alg, where, byte} ->
          %{ks: ks, opts: opts, valid: valid} = :persistent_term.get(__MODULE__)
          token = valid[alg]
          pos = min(trunc(where * byte_size(token)), byte_size(token) - 1)
          <<pre::binary-size(pos), old, post::binary>> = token
          # The same byte is no change; any other byte must be refused.
          changed = pre <> <<if(byte == old, do: bxor(old, 1), else: byte)>> <> post

          got =
            {:jwks_verify.verify(changed, ks, opts), :jwks_verify.verify_jws(changed, ks, opts)}

          when_fail(
            fn ->
              IO.puts("alg #{alg}, byte #{pos} set to #{byte}:\n#{changed}\ngot #{inspect(got)}")
            end,
            match?({{:error, _}, {:error, _}}, got)
          )
        end
      )

    quickcheck(prop, 3000)
  end

  test "every single-byte change of one segment boundary and every truncation is rejected", ctx do
    for {alg, token} <- ctx.valid do
      assert {:ok, _} = :jwks_verify.verify(token, ctx.ks, ctx.opts)

      for len <- 0..(byte_size(token) - 1) do
        cut = binary_part(token, 0, len)
        assert {:error, _} = :jwks_verify.verify(cut, ctx.ks, ctx.opts), "#{alg} cut at #{len}"
      end

      # Every possible byte in place of each '.' and at each segment's first character.
      [h, p, _] = String.split(token, ".")

      for pos <- [byte_size(h), byte_size(h) + 1 + byte_size(p), 0, byte_size(h) + 1],
          byte <- 0..255,
          byte != :binary.at(token, pos) do
        <<pre::binary-size(pos), _, post::binary>> = token
        changed = pre <> <<byte>> <> post

        assert {:error, _} = :jwks_verify.verify(changed, ctx.ks, ctx.opts),
               "#{alg} byte #{pos} = #{byte}"
      end
    end
  end

  test "random payload bytes and header values round-trip through verify_jws" do
    prop =
      :proper.forall(
        {:proper_types.elements(@algs), :proper_types.binary(), text()},
        fn {alg, payload, value} ->
          %{keys: keys, ks: ks, opts: opts} = :persistent_term.get(__MODULE__)
          header = %{"alg" => alg, "kid" => alg, "x-value" => value}

          token =
            Signer.sign(payload, keys[alg], %{header: %{"typ" => :undefined, "x-value" => value}})

          got = :jwks_verify.verify_jws(token, ks, opts)

          when_fail(
            fn -> IO.puts("alg #{alg}\npayload #{inspect(payload)}\ngot #{inspect(got)}") end,
            got === {:ok, %{header: header, payload: payload}}
          )
        end
      )

    quickcheck(prop, 500)
  end
end
