# Guards the public API of JwksVerify, and through it the C core: every
# algorithm verifies tokens from three independent signers (the openssl CLI
# fixtures, OTP :public_key, erlang-jose) and the RFC 7515 A.2 example, and
# every refusal of issue 3 comes back as its exact documented reason: forged,
# tampered, malformed, oversized and expired tokens, hostile headers and bad
# keys. A refusal is always `{:error, reason}`, never a crash.
defmodule JwksVerifyTest do
  use ExUnit.Case, async: true

  import JwksVerify.TokenHelpers

  doctest JwksVerify
  doctest JwksVerify.Options

  @now 1_700_000_100
  @iss "https://issuer.example"
  @aud "api://default"
  @algs ~w(RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA)

  # Which runtime key signs each algorithm, and its kid in the runtime JWKS.
  @signer %{
    "RS256" => :rsa,
    "RS384" => :rsa,
    "RS512" => :rsa,
    "PS256" => :rsa,
    "PS384" => :rsa,
    "PS512" => :rsa,
    "ES256" => :p256,
    "ES384" => :p384,
    "ES512" => :p521,
    "EdDSA" => :ed
  }
  @kid %{rsa: "rt-rsa", p256: "rt-p256", p384: "rt-p384", p521: "rt-p521", ed: "rt-ed"}

  # The openssl-CLI fixtures: name, alg, kid (test/fixtures/README.md).
  @fixtures [
    {"rs256", "RS256", "rsa-2048"},
    {"rs384", "RS384", "rsa-2048"},
    {"rs512", "RS512", "rsa-2048"},
    {"ps256", "PS256", "rsa-2048"},
    {"ps384", "PS384", "rsa-2048"},
    {"ps512", "PS512", "rsa-2048"},
    {"rs256_4096", "RS256", "rsa-4096"},
    {"es256", "ES256", "ec-p256"},
    {"es384", "ES384", "ec-p384"},
    {"es512", "ES512", "ec-p521"},
    {"eddsa", "EdDSA", "ed25519"}
  ]

  # RFC 7515 Appendix A.2: the RS256 example, key and token as printed there.
  @rfc_a2_jwk %{
    "kty" => "RSA",
    "n" =>
      "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
    "e" => "AQAB"
  }
  @rfc_a2_token "eyJhbGciOiJSUzI1NiJ9" <>
                  "." <>
                  "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ" <>
                  "." <>
                  "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"

  @deep 10_000

  setup_all do
    {:ok, fks} = JwksVerify.key_set(fixture_jwks())

    keys = %{
      rsa: rsa_key(),
      p256: ec_key("P-256"),
      p384: ec_key("P-384"),
      p521: ec_key("P-521"),
      ed: ed25519_key()
    }

    # Runtime keys carry no "alg", so key selection rests on kid and kty/crv.
    jwks = for {name, kid} <- @kid, do: public_jwk(keys[name], %{"kid" => kid, "use" => "sig"})
    {:ok, ks} = JwksVerify.key_set(jwks_json(jwks))

    attacker = %{
      rsa: rsa_key(),
      p256: ec_key("P-256"),
      p384: ec_key("P-384"),
      p521: ec_key("P-521"),
      ed: ed25519_key()
    }

    jose = %{
      rsa: jose_key("RS256"),
      p256: jose_key("ES256"),
      p384: jose_key("ES384"),
      p521: jose_key("ES512"),
      ed: jose_key("EdDSA")
    }

    jose_jwks = for {name, kid} <- @kid, do: jose_public_jwk(jose[name], %{"kid" => kid})
    {:ok, jose_ks} = JwksVerify.key_set(jwks_json(jose_jwks))

    %{fks: fks, ks: ks, keys: keys, jwks: jwks, attacker: attacker, jose: jose, jose_ks: jose_ks}
  end

  ## helpers

  defp claims(extra \\ %{}) do
    base = %{
      "iss" => @iss,
      "sub" => "user-1",
      "aud" => @aud,
      "iat" => @now - 100,
      "nbf" => @now - 100,
      "exp" => @now + 3600
    }

    Enum.reduce(extra, base, fn
      {k, nil}, acc -> Map.delete(acc, k)
      {k, v}, acc -> Map.put(acc, k, v)
    end)
  end

  # A token from the runtime key for `alg`, kid set unless the header says otherwise.
  defp rt_token(ctx, alg, claims \\ claims(), header \\ %{}) do
    k = @signer[alg]
    header = if is_map(header), do: Map.merge(%{"kid" => @kid[k]}, header), else: header
    token(ctx.keys[k], alg, claims, header)
  end

  # verify/3 with the fixed clock, every algorithm allowed and the tokens'
  # audience unless opts say otherwise.
  defp check(token, ks, opts \\ []) do
    JwksVerify.verify(token, ks, defaults(opts))
  end

  defp check_jws(token, ks, opts \\ []) do
    JwksVerify.verify_jws(token, ks, defaults(opts))
  end

  # `aud: nil` leaves the :aud option out.
  defp defaults(opts) do
    opts
    |> Keyword.put_new(:now, @now)
    |> Keyword.put_new(:algs, @algs)
    |> Keyword.put_new(:aud, @aud)
    |> Enum.reject(&(&1 == {:aud, nil}))
  end

  defp fixture_claims(jti) do
    %{
      "iss" => @iss,
      "sub" => "user-1",
      "aud" => @aud,
      "iat" => 1_700_000_000,
      "nbf" => 1_700_000_000,
      "exp" => 1_700_003_600,
      "jti" => jti
    }
  end

  defp info_of(ks, kid), do: Enum.find(JwksVerify.key_set_info(ks).keys, &(&1.kid == kid))

  ## key_set/1

  describe "key_set/1" do
    test "parses the fixture JWKS and refuses its RSA-1024 key", %{fks: fks} do
      info = JwksVerify.key_set_info(fks)
      assert info.usable == 6
      assert info.skipped == 1
      assert length(info.keys) == 7

      assert %{kid: "rsa-1024", kty: "RSA", status: :rsa_key_too_small} = info_of(fks, "rsa-1024")
      assert %{kty: "RSA", alg: "RS256", status: :ok} = info_of(fks, "rsa-4096")
      assert %{kty: "EC", alg: "ES512", status: :ok} = info_of(fks, "ec-p521")
      assert %{kty: "OKP", alg: "EdDSA", status: :ok} = info_of(fks, "ed25519")
    end

    test "a token naming the RSA-1024 key gets :rsa_key_too_small", %{fks: fks} do
      assert check(fixture_token("rs256_1024"), fks) == {:error, :rsa_key_too_small}
    end

    test "takes iodata" do
      assert {:ok, ks} = JwksVerify.key_set([~c"{\"keys\"", ": [", "]}"])
      assert JwksVerify.key_set_info(ks) == %{usable: 0, skipped: 0, keys: []}
    end

    test "skips and counts keys of unknown kty or crv", ctx do
      good = public_jwk(ctx.keys.rsa, %{"kid" => "good"})

      odd = [
        %{"kty" => "oct", "kid" => "oct"},
        %{"kty" => "XYZ", "kid" => "xyz"},
        %{
          "kty" => "EC",
          "kid" => "k1",
          "crv" => "secp256k1",
          "x" => b64(<<1::256>>),
          "y" => b64(<<2::256>>)
        },
        %{"kty" => "OKP", "kid" => "x25519", "crv" => "X25519", "x" => b64(<<9::256>>)},
        %{"kty" => "OKP", "kid" => "ed448", "crv" => "Ed448", "x" => b64(<<0::456>>)}
      ]

      assert {:ok, ks} = JwksVerify.key_set(jwks_json([good | odd]))
      info = JwksVerify.key_set_info(ks)
      assert info.usable == 1
      assert info.skipped == 5

      for kid <- ~w(oct xyz k1 x25519 ed448) do
        assert %{status: :unsupported_key} = info_of(ks, kid), kid
      end

      token = token(ctx.keys.rsa, "RS256", claims(), %{"kid" => "good"})
      assert {:ok, _} = check(token, ks)
    end

    test "keeps refused keys with their reason, and a token naming one gets it", ctx do
      weak_e = rsa_key(2048, 3)
      p256 = public_jwk(ctx.keys.p256, %{"kid" => "off-curve"})
      <<y::binary-size(31), last>> = unb64!(p256["y"])
      off_curve = %{p256 | "y" => b64(<<y::binary, Bitwise.bxor(last, 1)>>)}

      jwks = [
        public_jwk(weak_e, %{"kid" => "e3"}),
        off_curve,
        public_jwk(ctx.keys.rsa, %{"kid" => "no-n", "n" => nil}),
        public_jwk(ctx.keys.rsa, %{"kid" => "bad-n", "n" => "!!!!"}),
        public_jwk(ctx.keys.rsa, %{"kid" => "enc", "use" => "enc"}),
        public_jwk(ctx.keys.rsa, %{"kid" => "ops-enc", "key_ops" => ["encrypt"]}),
        public_jwk(ctx.keys.rsa, %{"kid" => "ops-verify", "key_ops" => ["verify"]})
      ]

      assert {:ok, ks} = JwksVerify.key_set(jwks_json(jwks))

      expected = [
        {"e3", weak_e, "RS256", :weak_rsa_exponent},
        {"off-curve", ctx.keys.p256, "ES256", :invalid_ec_point},
        {"no-n", ctx.keys.rsa, "RS256", :invalid_key},
        {"bad-n", ctx.keys.rsa, "RS256", :invalid_key},
        {"enc", ctx.keys.rsa, "RS256", :key_not_for_signing},
        {"ops-enc", ctx.keys.rsa, "RS256", :key_not_for_signing}
      ]

      for {kid, key, alg, reason} <- expected do
        assert %{status: ^reason} = info_of(ks, kid), kid
        token = token(key, alg, claims(), %{"kid" => kid})
        assert {kid, check(token, ks)} == {kid, {:error, reason}}
      end

      assert %{status: :ok} = info_of(ks, "ops-verify")
      token = token(ctx.keys.rsa, "RS256", claims(), %{"kid" => "ops-verify"})
      assert {:ok, _} = check(token, ks)
    end

    @bad_documents [
      {"not JSON", "not json", :bad_json},
      {"empty", "", :bad_json},
      {"truncated", ~s({"keys": [), :bad_json},
      {"an array", "[]", :bad_jwks},
      {"keys not an array", ~s({"keys": {}}), :bad_jwks},
      {"no keys member", ~s({"kees": []}), :bad_jwks}
    ]

    for {name, doc, reason} <- @bad_documents do
      test "refuses a JWKS that is #{name}" do
        assert JwksVerify.key_set(unquote(doc)) == {:error, unquote(reason)}
      end
    end

    test "a number beyond a double anywhere in the document is :bad_json", ctx do
      jwk = jwks_json([public_jwk(ctx.keys.rsa, %{"kid" => "k"})])

      assert {:ok, _} =
               JwksVerify.key_set(String.replace(jwk, ~s({"keys"), ~s({"x":1e308,"keys")))

      for n <- ["1e999", "-1e400", "[2e308]"] do
        doc = String.replace(jwk, ~s({"keys"), ~s({"x":#{n},"keys"))
        assert JwksVerify.key_set(doc) == {:error, :bad_json}, doc
      end
    end

    test "refuses a JWKS over 4 MiB before parsing it" do
      doc = ~s({"keys": []}) <> String.duplicate(" ", 4 * 1024 * 1024)
      assert JwksVerify.key_set(doc) == {:error, :jwks_too_large}
    end

    test "refuses a JWKS of more than 10 000 keys" do
      keys = List.duplicate(%{"kty" => "oct", "k" => "AA"}, 10_001)
      assert JwksVerify.key_set(jwks_json(keys)) == {:error, :too_many_keys}
    end

    test "raises ArgumentError on a caller mistake" do
      assert_raise ArgumentError, fn -> JwksVerify.key_set(123) end
      assert_raise ArgumentError, fn -> JwksVerify.key_set(%{"keys" => []}) end
    end
  end

  ## verify/3: the three independent signers

  describe "verify/3 with the openssl CLI fixtures" do
    for {name, alg, kid} <- @fixtures do
      test "#{name} (#{alg}, kid #{kid})", %{fks: fks} do
        token = fixture_token(unquote(name))
        assert header_of(token) == %{"alg" => unquote(alg), "typ" => "JWT", "kid" => unquote(kid)}
        assert check(token, fks) == {:ok, fixture_claims(unquote(name))}
        assert check(token, fks, algs: [unquote(alg)]) == {:ok, fixture_claims(unquote(name))}
      end
    end

    # The fixtures themselves are checked by another verifier, so a failure
    # above points at jwks_verify, not at gen.sh.
    test "fixtures verify with :public_key" do
      keys = %{
        "rsa-2048" => "rsa2048",
        "rsa-4096" => "rsa4096",
        "ec-p256" => "ec256",
        "ec-p384" => "ec384",
        "ec-p521" => "ec521",
        "ed25519" => "ed25519"
      }

      for {name, alg, kid} <- @fixtures do
        pub = public_key_record(fixture_key(keys[kid]))
        {h, p, s} = segments(fixture_token(name))
        assert public_key_verify(alg, h <> "." <> p, unb64!(s), pub), name
      end
    end

    test "the default :algs is RS256 only", %{fks: fks} do
      assert JwksVerify.verify(fixture_token("rs256"), fks, now: @now, aud: @aud) ==
               {:ok, fixture_claims("rs256")}

      for {name, alg, _} <- @fixtures, alg != "RS256" do
        assert {name, JwksVerify.verify(fixture_token(name), fks, now: @now, aud: @aud)} ==
                 {name, {:error, :alg_not_allowed}}
      end
    end

    test "an algorithm left out of :algs is :alg_not_allowed", %{fks: fks} do
      for {name, alg, _} <- @fixtures do
        others = @algs -- [alg]

        assert {name, check(fixture_token(name), fks, algs: others)} ==
                 {name, {:error, :alg_not_allowed}}
      end
    end

    test "without :now the system clock is used (the fixtures expired in 2023)", %{fks: fks} do
      assert JwksVerify.verify(fixture_token("rs256"), fks, []) == {:error, :expired}
    end
  end

  describe "verify/3 with :public_key tokens" do
    for alg <- @algs do
      test "#{alg} with a kid", ctx do
        assert check(rt_token(ctx, unquote(alg)), ctx.ks) == {:ok, claims()}
      end

      test "#{alg} without a kid: chosen by key type", ctx do
        token = rt_token(ctx, unquote(alg), claims(), %{"kid" => nil})
        refute Map.has_key?(header_of(token), "kid")
        assert check(token, ctx.ks) == {:ok, claims()}
      end
    end

    test "the system clock is used without :now", ctx do
      now = System.os_time(:second)

      token =
        rt_token(ctx, "RS256", claims(%{"iat" => now - 5, "nbf" => now - 5, "exp" => now + 600}))

      assert {:ok, %{"sub" => "user-1"}} = JwksVerify.verify(token, ctx.ks, aud: @aud)
    end
  end

  describe "verify/3 with erlang-jose tokens" do
    for alg <- @algs do
      test alg, ctx do
        k = @signer[unquote(alg)]
        token = jose_token(ctx.jose[k], unquote(alg), claims(), %{"kid" => @kid[k]})
        assert header_of(token)["alg"] == unquote(alg)

        if unquote(alg) =~ ~r/^PS/ do
          # Debian's erlang-jose 1.11.5 signs PSS with the maximum salt length
          # (erlang-jose#121); RFC 7518 §3.5 fixes it to the hash length, and
          # so does our verifier (Wycheproof's SaltLenChanged cases).
          assert check(token, ctx.jose_ks) == {:error, :bad_signature}
        else
          assert check(token, ctx.jose_ks) == {:ok, claims()}
          assert check(flip_signature_bit(token), ctx.jose_ks) == {:error, :bad_signature}
        end
      end
    end
  end

  describe "RFC 7515 Appendix A.2" do
    setup do
      {:ok, ks} = JwksVerify.key_set(jwks_json([@rfc_a2_jwk]))
      %{rfc_ks: ks}
    end

    test "the RS256 example verifies", %{rfc_ks: ks} do
      assert JwksVerify.verify(@rfc_a2_token, ks, now: 1_300_819_300) ==
               {:ok,
                %{"iss" => "joe", "exp" => 1_300_819_380, "http://example.com/is_root" => true}}
    end

    test "and is :expired at its exp", %{rfc_ks: ks} do
      assert JwksVerify.verify(@rfc_a2_token, ks, now: 1_300_819_380) == {:error, :expired}
    end

    test "verify_jws/3 returns its header and payload bytes", %{rfc_ks: ks} do
      {_, p, _} = segments(@rfc_a2_token)

      assert JwksVerify.verify_jws(@rfc_a2_token, ks, now: 1_300_819_300) ==
               {:ok, %{header: %{"alg" => "RS256"}, payload: unb64!(p)}}
    end
  end

  ## verify/3: refusals

  describe "signature refusals" do
    for alg <- @algs do
      test "#{alg}: a flipped signature bit is :bad_signature", ctx do
        assert check(flip_signature_bit(rt_token(ctx, unquote(alg))), ctx.ks) ==
                 {:error, :bad_signature}
      end

      test "#{alg}: a header changed after signing is :bad_signature", ctx do
        {_, p, s} = segments(rt_token(ctx, unquote(alg)))
        kid = @kid[@signer[unquote(alg)]]
        h = b64(json(%{"alg" => unquote(alg), "kid" => kid, "typ" => "at+jwt"}))
        assert check(h <> "." <> p <> "." <> s, ctx.ks) == {:error, :bad_signature}
      end

      test "#{alg}: a payload changed after signing is :bad_signature", ctx do
        {h, _, s} = segments(rt_token(ctx, unquote(alg)))
        p = b64(json(claims(%{"sub" => "admin"})))
        assert check(h <> "." <> p <> "." <> s, ctx.ks) == {:error, :bad_signature}
      end

      test "#{alg}: signed by another key under the same kid is :bad_signature", ctx do
        k = @signer[unquote(alg)]
        token = token(ctx.attacker[k], unquote(alg), claims(), %{"kid" => @kid[k]})
        assert check(token, ctx.ks) == {:error, :bad_signature}
      end

      test "#{alg}: a signature one byte short, one byte long or empty is :bad_signature_length",
           ctx do
        {h, p, s} = segments(rt_token(ctx, unquote(alg)))
        sig = unb64!(s)
        short = binary_part(sig, 0, byte_size(sig) - 1)

        for bad <- [short, sig <> <<0>>, ""] do
          assert {byte_size(bad), check(h <> "." <> p <> "." <> b64(bad), ctx.ks)} ==
                   {byte_size(bad), {:error, :bad_signature_length}}
        end
      end
    end

    test "a kid-less token no key verifies is :bad_signature", ctx do
      token = token(ctx.attacker.rsa, "RS256", claims())
      assert check(token, ctx.ks) == {:error, :bad_signature}
    end
  end

  describe "ECDSA signature range" do
    # P-256's group order n (SEC 2).
    @p256_n 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

    for {name, r, s} <- [
          {"r = s = 0", 0, 0},
          {"r = 0", 0, 1},
          {"s = 0", 1, 0},
          {"r = n", @p256_n, 1},
          {"s = n", 1, @p256_n},
          {"r = 2^256 - 1", 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF, 1}
        ] do
      test "ES256 with #{name} is :signature_out_of_range", ctx do
        {h, p, _} = segments(rt_token(ctx, "ES256"))
        sig = <<unquote(r)::256, unquote(s)::256>>

        assert check(h <> "." <> p <> "." <> b64(sig), ctx.ks) ==
                 {:error, :signature_out_of_range}
      end
    end

    test "ES384 and ES512 with r = s = 0 are :signature_out_of_range", ctx do
      for {alg, size} <- [{"ES384", 96}, {"ES512", 132}] do
        {h, p, _} = segments(rt_token(ctx, alg))
        token = h <> "." <> p <> "." <> b64(<<0::size(size * 8)>>)
        assert {alg, check(token, ctx.ks)} == {alg, {:error, :signature_out_of_range}}
      end
    end
  end

  describe "key selection refusals" do
    test "an unknown kid is :unknown_kid", ctx do
      token = rt_token(ctx, "RS256", claims(), %{"kid" => "nope"})
      assert check(token, ctx.ks) == {:error, :unknown_kid}
    end

    test "two keys of one type under the token's kid is :ambiguous_kid", ctx do
      jwks = [
        public_jwk(ctx.keys.rsa, %{"kid" => "dup"}),
        public_jwk(ctx.attacker.rsa, %{"kid" => "dup"})
      ]

      {:ok, ks} = JwksVerify.key_set(jwks_json(jwks))
      token = token(ctx.keys.rsa, "RS256", claims(), %{"kid" => "dup"})
      assert check(token, ks) == {:error, :ambiguous_kid}
    end

    test "keys of different types may share a kid: the one that fits the alg is used", ctx do
      # RFC 7517 §4.5; an encryption key under the kid does not compete either.
      jwks = [
        public_jwk(ctx.keys.rsa, %{"kid" => "shared"}),
        public_jwk(ctx.keys.p256, %{"kid" => "shared"}),
        public_jwk(ctx.keys.p384, %{"kid" => "shared"}),
        public_jwk(ctx.keys.ed, %{"kid" => "shared"}),
        public_jwk(ctx.attacker.rsa, %{"kid" => "shared", "use" => "enc"})
      ]

      {:ok, ks} = JwksVerify.key_set(jwks_json(jwks))

      for {alg, key} <- [
            {"RS256", :rsa},
            {"PS384", :rsa},
            {"ES256", :p256},
            {"ES384", :p384},
            {"EdDSA", :ed}
          ] do
        token = token(ctx.keys[key], alg, claims(), %{"kid" => "shared"})
        assert {alg, check(token, ks)} == {alg, {:ok, claims()}}
        assert {:ok, %{header: %{"kid" => "shared"}}} = check_jws(token, ks)
        forged = token(ctx.attacker[key], alg, claims(), %{"kid" => "shared"})
        assert {alg, check(forged, ks)} == {alg, {:error, :bad_signature}}
      end

      es512 = token(ctx.keys.p521, "ES512", claims(), %{"kid" => "shared"})
      assert check(es512, ks) == {:error, :key_type_mismatch}
    end

    test "two keys of one type under the kid stay :ambiguous_kid beside another type", ctx do
      jwks = [
        public_jwk(ctx.keys.p256, %{"kid" => "dup"}),
        public_jwk(ctx.attacker.p256, %{"kid" => "dup"}),
        public_jwk(ctx.keys.rsa, %{"kid" => "dup"})
      ]

      {:ok, ks} = JwksVerify.key_set(jwks_json(jwks))
      token = token(ctx.keys.p256, "ES256", claims(), %{"kid" => "dup"})
      assert check(token, ks) == {:error, :ambiguous_kid}

      assert check(token(ctx.keys.rsa, "RS256", claims(), %{"kid" => "dup"}), ks) ==
               {:ok, claims()}
    end

    test "a kid-less token no key fits is :no_matching_key", ctx do
      {:ok, rsa_only} = JwksVerify.key_set(jwks_json([public_jwk(ctx.keys.rsa, %{"kid" => "r"})]))
      token = token(ctx.keys.p256, "ES256", claims())
      assert check(token, rsa_only) == {:error, :no_matching_key}
    end

    test "a key of another kty or crv is :key_type_mismatch", ctx do
      cases = [
        {"RS256", ctx.keys.rsa, "rt-p256"},
        {"ES256", ctx.keys.p256, "rt-rsa"},
        {"ES256", ctx.keys.p256, "rt-p384"},
        {"ES384", ctx.keys.p384, "rt-p521"},
        {"EdDSA", ctx.keys.ed, "rt-p256"},
        {"PS256", ctx.keys.rsa, "rt-ed"}
      ]

      for {alg, key, kid} <- cases do
        token = token(key, alg, claims(), %{"kid" => kid})
        assert {alg, kid, check(token, ctx.ks)} == {alg, kid, {:error, :key_type_mismatch}}
      end
    end

    test "a key whose own alg differs is :key_alg_mismatch", %{fks: fks} do
      # rsa-4096 carries "alg": "RS256" in the fixture JWKS.
      key = fixture_key("rsa4096")

      for alg <- ~w(RS384 RS512 PS256) do
        token = token(key, alg, claims(), %{"kid" => "rsa-4096"})
        assert {alg, check(token, fks)} == {alg, {:error, :key_alg_mismatch}}
      end

      assert {:ok, _} = check(token(key, "RS256", claims(), %{"kid" => "rsa-4096"}), fks)
    end
  end

  describe "header refusals" do
    @header_refusals [
      {"alg none", %{"alg" => "none"}, [], :alg_none},
      {"alg None", %{"alg" => "None"}, [], :alg_none},
      {"alg NONE", %{"alg" => "NONE"}, [], :alg_none},
      {"alg nOnE", %{"alg" => "nOnE"}, [], :alg_none},
      {"alg none with :algs RS256", %{"alg" => "none"}, [algs: ["RS256"]], :alg_none},
      {"alg HS256", %{"alg" => "HS256"}, [], :unsupported_alg},
      {"alg HS512", %{"alg" => "HS512"}, [], :unsupported_alg},
      {"alg ES256K", %{"alg" => "ES256K"}, [], :unsupported_alg},
      {"alg rs256 (alg names are case-sensitive)", %{"alg" => "rs256"}, [], :unsupported_alg},
      {"alg empty", %{"alg" => ""}, [], :unsupported_alg},
      {"alg RS256 not in :algs", %{}, [algs: ["ES256", "PS256"]], :alg_not_allowed},
      {"embedded jku", %{"jku" => "https://evil.example/jwks.json"}, [], :embedded_key},
      {"embedded x5u", %{"x5u" => "https://evil.example/cert.pem"}, [], :embedded_key},
      {"embedded x5c", %{"x5c" => ["MIIB"]}, [], :embedded_key},
      {"crit exp", %{"crit" => ["exp"], "exp" => 1}, [], :unsupported_crit},
      {"crit b64", %{"crit" => ["b64"], "b64" => false}, [], :unsupported_crit},
      {"unknown kid", %{"kid" => "nope"}, [], :unknown_kid},
      {"typ JWT when at+jwt is required", %{"typ" => "JWT"}, [typ: "at+jwt"], :invalid_typ},
      {"no typ when at+jwt is required", %{"typ" => nil}, [typ: "at+jwt"], :invalid_typ},
      {"alg not a string", %{"alg" => 256}, [], :bad_header},
      {"alg null", %{"alg" => :null}, [], :bad_header},
      {"no alg", %{"alg" => nil}, [], :bad_header},
      {"kid not a string", %{"kid" => 7}, [], :bad_header},
      {"typ not a string", %{"typ" => ["JWT"]}, [], :bad_header}
    ]

    for {name, header, opts, reason} <- @header_refusals do
      test "#{name} is #{inspect(reason)}", ctx do
        token = rt_token(ctx, "RS256", claims(), unquote(Macro.escape(header)))
        assert check(token, ctx.ks, unquote(opts)) == {:error, unquote(reason)}
      end
    end

    test "alg none with an empty signature, in any spelling, is :alg_none", ctx do
      for alg <- ~w(none None NONE nOnE noNE) do
        token = unsigned_token(json(%{"alg" => alg}), json(claims()))
        assert String.ends_with?(token, ".")
        assert {alg, check(token, ctx.ks)} == {alg, {:error, :alg_none}}
        assert {alg, check_jws(token, ctx.ks)} == {alg, {:error, :alg_none}}
      end
    end

    test "HS256 keyed with the RSA public key (key confusion) is :unsupported_alg", ctx do
      rsa_pub = ctx.keys.rsa.private |> elem(2)
      pem = rsa_public_pem(ctx.keys.rsa)
      jwk_json = json(hd(ctx.jwks))

      for secret <- [pem, jwk_json, :binary.encode_unsigned(rsa_pub)],
          header <- [%{"kid" => "rt-rsa"}, %{}] do
        assert check(hs256_token(secret, claims(), header), ctx.ks) == {:error, :unsupported_alg}
      end
    end

    test "an embedded jwk signed by the attacker is :embedded_key", ctx do
      for {name, kid} <- @kid do
        alg = Enum.find(@algs, &(@signer[&1] == name))
        jwk = public_jwk(ctx.attacker[name])
        token = token(ctx.attacker[name], alg, claims(), %{"jwk" => jwk, "kid" => kid})
        assert {alg, check(token, ctx.ks)} == {alg, {:error, :embedded_key}}

        token = token(ctx.attacker[name], alg, claims(), %{"jwk" => jwk})
        assert {alg, check(token, ctx.ks)} == {alg, {:error, :embedded_key}}
      end
    end

    @prefix ~s({"alg":"RS256","kid":"rt-rsa")
    @raw_header_refusals [
      {"duplicate alg", @prefix <> ~s(,"alg":"RS256"}), :bad_header},
      {"duplicate alg, none first", ~s({"alg":"none","alg":"RS256","kid":"rt-rsa"}), :bad_header},
      {"duplicate alg, none last", @prefix <> ~s(,"alg":"none"}), :bad_header},
      {"duplicate kid", @prefix <> ~s(,"kid":"rt-p256"}), :bad_header},
      {"duplicate unknown member", @prefix <> ~s(,"x":1,"x":2}), :bad_header},
      {"an array", ~s(["RS256"]), :bad_header},
      {"a string", ~s("RS256"), :bad_header},
      {"not JSON", "alg=RS256", :bad_header},
      {"truncated JSON", @prefix, :bad_header},
      {"trailing bytes", @prefix <> "}x", :bad_header},
      {"two objects", @prefix <> "}{}", :bad_header},
      {"an escaped NUL in kid", ~s({"alg":"RS256","kid":"rt-rsa\\u0000x"}), :bad_header},
      {"a 0xFF byte", @prefix <> ~s(,"x":") <> <<0xFF>> <> ~s("}), :bad_header},
      {"an overlong UTF-8 '/'", @prefix <> ~s(,"x":") <> <<0xC0, 0xAF>> <> ~s("}), :bad_header},
      {"a UTF-8 encoded surrogate", @prefix <> ~s(,"x":") <> <<0xED, 0xA0, 0x80>> <> ~s("}),
       :bad_header},
      {"a cut UTF-8 sequence", @prefix <> ~s(,"x":") <> <<0xE2, 0x82>> <> ~s("}), :bad_header},
      {"a 0xFE byte in a member name",
       ~s({"alg":"RS256","kid":"rt-rsa",") <> <<0xFE>> <> ~s(":1}), :bad_header},
      {"JSON nested #{@deep} deep",
       @prefix <>
         ~s(,"x":) <> String.duplicate("[", @deep) <> String.duplicate("]", @deep) <> "}",
       :bad_header},
      {"objects nested #{@deep} deep",
       @prefix <>
         ~s(,"x":) <>
         String.duplicate(~s({"a":), @deep) <> "1" <> String.duplicate("}", @deep) <> "}",
       :bad_header}
    ]

    for {name, header, reason} <- @raw_header_refusals do
      test "a header with #{name} is #{inspect(reason)}", ctx do
        token = token(ctx.keys.rsa, "RS256", claims(), unquote(header))
        # Large enough for the deepest case: the nesting, not the size, is refused.
        assert check(token, ctx.ks, max_token_bytes: 200_000) == {:error, unquote(reason)}
        assert check_jws(token, ctx.ks, max_token_bytes: 200_000) == {:error, unquote(reason)}
      end
    end
  end

  describe "claim refusals" do
    @claim_refusals [
      {"exp in the past", %{"exp" => @now - 1}, [], :expired},
      {"exp equal to now", %{"exp" => @now}, [], :expired},
      {"exp beyond the leeway", %{"exp" => @now - 10}, [leeway: 10], :expired},
      {"nbf in the future", %{"nbf" => @now + 1}, [], :not_yet_valid},
      {"nbf beyond the leeway", %{"nbf" => @now + 11}, [leeway: 10], :not_yet_valid},
      {"iat in the future", %{"iat" => @now + 1}, [], :issued_in_future},
      {"iat beyond the leeway", %{"iat" => @now + 11}, [leeway: 10], :issued_in_future},
      {"a wrong iss", %{"iss" => "https://evil.example"}, [iss: @iss], :invalid_issuer},
      {"an iss not in the list", %{"iss" => "https://evil.example"},
       [iss: [@iss, "https://other.example"]], :invalid_issuer},
      {"an iss of another case", %{"iss" => "HTTPS://ISSUER.EXAMPLE"}, [iss: @iss],
       :invalid_issuer},
      {"an iss with a suffix", %{"iss" => @iss <> ".evil"}, [iss: @iss], :invalid_issuer},
      {"an iss prefix", %{"iss" => "https://issuer"}, [iss: @iss], :invalid_issuer},
      {"a wrong aud string", %{"aud" => "api://other"}, [aud: @aud], :invalid_audience},
      {"a wrong aud array", %{"aud" => ["api://other", "x"]}, [aud: @aud], :invalid_audience},
      {"an empty aud array", %{"aud" => []}, [aud: @aud], :invalid_audience},
      {"an aud not in the list", %{"aud" => "x"}, [aud: [@aud, "y"]], :invalid_audience},
      # RFC 7519 §4.1.3: a token for some audience, to a verifier that named none.
      {"an aud string and no :aud option", %{"aud" => @aud}, [aud: nil], :invalid_audience},
      {"an aud array and no :aud option", %{"aud" => ["x", @aud]}, [aud: nil], :invalid_audience},
      {"an empty aud array and no :aud option", %{"aud" => []}, [aud: nil], :invalid_audience},
      {"a missing aud with :aud set", %{"aud" => nil}, [aud: @aud], {:missing_claim, "aud"}},
      {"an aud number with aud: :any", %{"aud" => 5}, [aud: :any], {:invalid_claim, "aud"}},
      {"a missing sub", %{"sub" => nil}, [required: ["exp", "sub"]], {:missing_claim, "sub"}},
      {"a missing exp", %{"exp" => nil}, [], {:missing_claim, "exp"}},
      {"a missing jti", %{}, [required: ["jti"]], {:missing_claim, "jti"}},
      {"exp \"123\"", %{"exp" => "123"}, [], {:invalid_claim, "exp"}},
      {"exp 1.5", %{"exp" => 1.5}, [], {:invalid_claim, "exp"}},
      {"exp null", %{"exp" => :null}, [], {:invalid_claim, "exp"}},
      {"exp true", %{"exp" => true}, [], {:invalid_claim, "exp"}},
      {"exp an array", %{"exp" => [@now + 10]}, [], {:invalid_claim, "exp"}},
      {"nbf 1.5", %{"nbf" => 1.5}, [], {:invalid_claim, "nbf"}},
      {"nbf \"0\"", %{"nbf" => "0"}, [], {:invalid_claim, "nbf"}},
      {"iat 0.5", %{"iat" => 0.5}, [], {:invalid_claim, "iat"}},
      {"iat an object", %{"iat" => %{}}, [], {:invalid_claim, "iat"}},
      {"iss a number", %{"iss" => 5}, [iss: @iss], {:invalid_claim, "iss"}},
      {"aud a number", %{"aud" => 5}, [aud: @aud], {:invalid_claim, "aud"}}
    ]

    for {name, extra, opts, reason} <- @claim_refusals do
      test "#{name} is #{inspect(reason)}", ctx do
        token = rt_token(ctx, "ES256", claims(unquote(Macro.escape(extra))))
        assert check(token, ctx.ks, unquote(opts)) == {:error, unquote(Macro.escape(reason))}
      end
    end

    @raw_payload_refusals [
      # beyond a double: refused by the JSON layer before any claim is read
      {"exp 1e400", ~s({"exp":1e400}), :bad_payload},
      {"exp -1e400", ~s({"exp":-1e400}), :bad_payload},
      {"another claim 1e400", ~s({"exp":1700003600,"x":[1e400]}), :bad_payload},
      {"exp 1e300", ~s({"exp":1e300}), {:invalid_claim, "exp"}},
      {"exp 2^63", ~s({"exp":9223372036854775808}), {:invalid_claim, "exp"}},
      {"exp -2^63 - 1", ~s({"exp":-9223372036854775809}), {:invalid_claim, "exp"}},
      {"exp 2^64", ~s({"exp":18446744073709551616}), {:invalid_claim, "exp"}},
      {"exp 1700003600.5", ~s({"exp":1700003600.5}), {:invalid_claim, "exp"}},
      {"nbf 2^63", ~s({"exp":1700003600,"nbf":9223372036854775808}), {:invalid_claim, "nbf"}},
      {"iat 1e400", ~s({"exp":1700003600,"iat":1e400}), :bad_payload},
      {"duplicate exp", ~s({"exp":1,"exp":1700003600}), :bad_payload},
      {"duplicate sub", ~s({"exp":1700003600,"sub":"a","sub":"b"}), :bad_payload},
      {"an array", ~s([{"exp":1700003600}]), :bad_payload},
      {"a string", ~s("exp"), :bad_payload},
      {"a number", "1700003600", :bad_payload},
      {"null", "null", :bad_payload},
      {"truncated JSON", ~s({"exp":1700003600), :bad_payload},
      {"trailing bytes", ~s({"exp":1700003600}x), :bad_payload},
      {"a 0xFF byte", ~s({"exp":1700003600,"sub":") <> <<0xFF>> <> ~s("}), :bad_payload},
      {"an overlong UTF-8 '/'", ~s({"exp":1700003600,"sub":") <> <<0xC0, 0xAF>> <> ~s("}),
       :bad_payload},
      {"a UTF-8 encoded surrogate",
       ~s({"exp":1700003600,"sub":") <> <<0xED, 0xB0, 0x80>> <> ~s("}), :bad_payload},
      {"a cut UTF-8 sequence", ~s({"exp":1700003600,"sub":"a) <> <<0xF0, 0x9F>> <> ~s("}),
       :bad_payload},
      {"Latin-1 text", ~s({"exp":1700003600,"sub":"caf) <> <<0xE9>> <> ~s("}), :bad_payload},
      {"an escaped NUL", ~s({"exp":1700003600,"sub":"admin\\u0000x"}), :bad_payload},
      {"JSON nested #{@deep} deep",
       ~s({"exp":1700003600,"n":) <>
         String.duplicate("[", @deep) <> String.duplicate("]", @deep) <> "}", :bad_payload},
      {"objects nested #{@deep} deep",
       ~s({"exp":1700003600,"n":) <>
         String.duplicate(~s({"a":), @deep) <> "0" <> String.duplicate("}", @deep) <> "}",
       :bad_payload}
    ]

    for {name, payload, reason} <- @raw_payload_refusals do
      test "a payload with #{name} is #{inspect(reason)}", ctx do
        token = rt_token(ctx, "RS256", unquote(payload))

        assert check(token, ctx.ks, max_token_bytes: 200_000) ==
                 {:error, unquote(Macro.escape(reason))}
      end
    end

    test "a header member beyond a double is :bad_header for verify/3 and verify_jws/3 alike",
         ctx do
      # As text: no JSON encoder writes these numbers.
      for member <- ["1e999", "-1e400", ~s([1,{"y":2e308}])] do
        header = ~s({"alg":"ES256","kid":"rt-p256","x":) <> member <> "}"
        token = rt_token(ctx, "ES256", claims(), header)
        assert check(token, ctx.ks) == {:error, :bad_header}, header
        assert check_jws(token, ctx.ks) == {:error, :bad_header}, header
        assert JwksVerify.peek_unverified(token) == {:error, :bad_header}, header
      end

      token = rt_token(ctx, "ES256", claims(), ~s({"alg":"ES256","kid":"rt-p256","x":1e308}))
      assert {:ok, %{header: %{"x" => 1.0e308}}} = check_jws(token, ctx.ks)
      assert {:ok, _} = check(token, ctx.ks)
    end

    test "verify_jws/3 takes the payloads verify/3 refuses, as bytes", ctx do
      for {_, payload, _} <- @raw_payload_refusals do
        token = rt_token(ctx, "RS256", payload)
        assert {:ok, %{payload: ^payload}} = check_jws(token, ctx.ks, max_token_bytes: 200_000)
      end
    end
  end

  describe "claims accepted at the edges" do
    @accepted [
      {"exp within the leeway", %{"exp" => @now - 9}, [leeway: 10]},
      {"nbf equal to now", %{"nbf" => @now}, []},
      {"nbf within the leeway", %{"nbf" => @now + 10}, [leeway: 10]},
      {"iat equal to now", %{"iat" => @now}, []},
      {"iat within the leeway", %{"iat" => @now + 10}, [leeway: 10]},
      {"no nbf nor iat", %{"nbf" => nil, "iat" => nil}, []},
      {"no exp when not required", %{"exp" => nil}, [required: []]},
      {"iss in a list", %{}, [iss: ["https://other.example", @iss]]},
      {"iss exact", %{}, [iss: @iss]},
      {"aud string", %{}, [aud: @aud]},
      {"aud in an array", %{"aud" => ["x", @aud]}, [aud: @aud]},
      {"aud one of a list", %{"aud" => ["x", "y"]}, [aud: [@aud, "y"]]},
      {"exp at int64 max", %{"exp" => 9_223_372_036_854_775_807}, []},
      {"negative nbf", %{"nbf" => -5}, []},
      {"required claims present", %{}, [required: ["exp", "sub", "iss", "aud"]]},
      {"any iss when unset", %{"iss" => "x"}, []},
      {"any aud with aud: :any (unsafe)", %{"aud" => ["y"]}, [aud: :any]},
      {"no aud with aud: :any", %{"aud" => nil}, [aud: :any]},
      {"no aud and no :aud option", %{"aud" => nil}, [aud: nil]}
    ]

    for {name, extra, opts} <- @accepted do
      test name, ctx do
        claims = claims(unquote(Macro.escape(extra)))
        assert check(rt_token(ctx, "EdDSA", claims), ctx.ks, unquote(opts)) == {:ok, claims}
      end
    end
  end

  describe "typ" do
    for typ <- ["at+jwt", "JWT", nil, "application/at+jwt", "secevent+jwt"] do
      test "typ #{inspect(typ)} passes without the :typ option", ctx do
        token = rt_token(ctx, "RS256", claims(), %{"typ" => unquote(typ)})
        assert check(token, ctx.ks) == {:ok, claims()}
      end
    end

    for typ <- ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"] do
      test "typ #{typ} passes with typ: \"at+jwt\"", ctx do
        token = rt_token(ctx, "RS256", claims(), %{"typ" => unquote(typ)})
        assert check(token, ctx.ks, typ: "at+jwt") == {:ok, claims()}
      end
    end

    for typ <- ["JWT", "jwt", "at+jwt2", "application/jwt", "", nil] do
      test "typ #{inspect(typ)} is :invalid_typ with typ: \"at+jwt\"", ctx do
        token = rt_token(ctx, "RS256", claims(), %{"typ" => unquote(typ)})
        assert check(token, ctx.ks, typ: "at+jwt") == {:error, :invalid_typ}
      end
    end
  end

  describe "size and shape" do
    test "a 1 MB token is :token_too_large", ctx do
      big = claims(%{"pad" => String.duplicate("x", 1_000_000)})
      token = rt_token(ctx, "RS256", big)
      assert byte_size(token) > 1_000_000
      assert check(token, ctx.ks) == {:error, :token_too_large}
      assert check_jws(token, ctx.ks) == {:error, :token_too_large}
      assert check(String.duplicate("a", 1_048_576), ctx.ks) == {:error, :token_too_large}
    end

    test ":max_token_bytes is the largest size taken", ctx do
      token = rt_token(ctx, "RS256")
      n = byte_size(token)
      assert check(token, ctx.ks, max_token_bytes: n) == {:ok, claims()}
      assert check(token, ctx.ks, max_token_bytes: n - 1) == {:error, :token_too_large}
    end

    test "a token over the default 32 KiB is refused; one just under it is not", ctx do
      # Sized so the whole token is exactly 32768 bytes, then one more.
      base = byte_size(rt_token(ctx, "RS256", claims(%{"pad" => ""})))
      pad = div((32_768 - base) * 3, 4)

      sizes =
        for extra <- (pad - 3)..(pad + 3) do
          t = rt_token(ctx, "RS256", claims(%{"pad" => String.duplicate("x", extra)}))
          {byte_size(t), t}
        end

      {_, fits} = Enum.find(sizes, fn {n, _} -> n <= 32_768 end)
      {_, over} = Enum.find(sizes, fn {n, _} -> n > 32_768 end)
      assert {:ok, _} = check(fits, ctx.ks)
      assert check(over, ctx.ks) == {:error, :token_too_large}
    end

    # The last: an empty header segment (compact serialization needs a header).
    @malformed [
      "",
      "abc",
      "a.b",
      "a.b.c.d",
      "a..b.c",
      "....",
      "eyJhbGciOiJSUzI1NiJ9",
      ".e30.AAAA"
    ]

    for t <- @malformed do
      test "#{inspect(t)} is :malformed_token", ctx do
        assert check(unquote(t), ctx.ks) == {:error, :malformed_token}
      end
    end

    test "segments that are not strict base64url are :bad_base64", ctx do
      {h, p, s} = segments(rt_token(ctx, "RS256"))
      # The RSA-2048 signature is 256 bytes: 342 characters, 4 spare bits in the last.
      assert rem(byte_size(s), 4) == 2
      last = :binary.last(s)
      noncanonical = binary_part(s, 0, byte_size(s) - 1) <> <<next_b64(last)>>

      variants = [
        {"padded header", h <> "=", p, s},
        {"padded signature", h, p, s <> "=="},
        {"space in the payload", h, " " <> p, s},
        {"newline in the header", h <> "\n", p, s},
        {"'+' in the header", "+" <> binary_part(h, 1, byte_size(h) - 1), p, s},
        {"'/' in the signature", h, p, "/" <> binary_part(s, 1, byte_size(s) - 1)},
        {"'%' in the payload", h, "%" <> p, s},
        {"non-canonical trailing bits", h, p, noncanonical},
        {"impossible length (4k + 1)", h, p, s <> "AAA"}
      ]

      for {name, h, p, s} <- variants do
        assert {name, check(h <> "." <> p <> "." <> s, ctx.ks)} == {name, {:error, :bad_base64}}
      end
    end

    test "a payload segment with non-canonical trailing bits is :bad_base64 even when signed",
         ctx do
      # A payload of 3k + 1 bytes ends in a character carrying 4 unused bits.
      payload = pad_to_rem(json(claims()), 1)
      p = b64(payload)
      assert rem(byte_size(p), 4) == 2
      p = binary_part(p, 0, byte_size(p) - 1) <> <<next_b64(:binary.last(p))>>
      token = sign_segments(ctx.keys.rsa, "RS256", b64(~s({"alg":"RS256","kid":"rt-rsa"})), p)
      assert check(token, ctx.ks) == {:error, :bad_base64}
    end
  end

  describe "every truncation and every one-character change" do
    for name <- ~w(rs256 ps384 es256 es512 eddsa) do
      test "#{name}: every proper prefix is refused", %{fks: fks} do
        token = fixture_token(unquote(name))

        for n <- 0..(byte_size(token) - 1) do
          cut = binary_part(token, 0, n)
          assert_refused(n, check(cut, fks))
          assert_refused(n, check_jws(cut, fks))
        end
      end
    end

    for name <- ~w(rs256 es256 eddsa) do
      test "#{name}: every one-character change is refused", %{fks: fks} do
        token = fixture_token(unquote(name))

        for i <- 0..(byte_size(token) - 1) do
          <<pre::binary-size(i), c, post::binary>> = token
          changed = pre <> <<if(c == ?A, do: ?B, else: ?A)>> <> post
          assert_refused(i, check(changed, fks))
        end
      end
    end
  end

  describe "claims" do
    test "come back as maps with binary keys; true, false, null as atoms; numbers exact", ctx do
      payload = ~s({"exp":1700003600,
        "obj":{"a":[1,"two",{"b":null}],"t":true,"f":false,"o":{}},
        "arr":[[],[[]],{"x":[true,false,null]}],
        "big":12345678901234567890,
        "min":-9223372036854775808,
        "max":9223372036854775807,
        "neg":-42,
        "zero":0,
        "pi":3.25,
        "small":-0.5,
        "sci":1.5e10,
        "tiny":2.5E-3,
        "esc":"a\\"b\\\\c\\/d\\n\\t",
        "uni":"\\u00e9\\ud83d\\ude00",
        "raw":"été ☃",
        "":"empty name"})

      assert check(rt_token(ctx, "RS256", payload), ctx.ks, aud: :any) ==
               {:ok,
                %{
                  "exp" => 1_700_003_600,
                  "obj" => %{
                    "a" => [1, "two", %{"b" => :null}],
                    "t" => true,
                    "f" => false,
                    "o" => %{}
                  },
                  "arr" => [[], [[]], %{"x" => [true, false, :null]}],
                  "big" => 12_345_678_901_234_567_890,
                  "min" => -9_223_372_036_854_775_808,
                  "max" => 9_223_372_036_854_775_807,
                  "neg" => -42,
                  "zero" => 0,
                  "pi" => 3.25,
                  "small" => -0.5,
                  "sci" => 1.5e10,
                  "tiny" => 2.5e-3,
                  "esc" => "a\"b\\c/d\n\t",
                  "uni" => "é😀",
                  "raw" => "été ☃",
                  "" => "empty name"
                }}
    end

    test "floats stay floats and integers stay integers", ctx do
      payload = ~s({"exp":1700003600,"f":1.0,"g":-0.0,"i":1,"h":100})
      assert {:ok, claims} = check(rt_token(ctx, "RS256", payload), ctx.ks, aud: :any)
      assert is_float(claims["f"]) and claims["f"] == 1.0
      assert is_float(claims["g"])
      assert claims["i"] === 1
      assert claims["h"] === 100
    end

    test "the integer claims of the fixtures are exact", %{fks: fks} do
      assert {:ok, %{"exp" => 1_700_003_600, "iat" => 1_700_000_000}} =
               check(fixture_token("es384"), fks)
    end
  end

  describe "verify_jws/3" do
    test "returns the header and the payload bytes", %{fks: fks} do
      token = fixture_token("es256")
      {_, p, _} = segments(token)

      assert check_jws(token, fks) ==
               {:ok,
                %{
                  header: %{"alg" => "ES256", "typ" => "JWT", "kid" => "ec-p256"},
                  payload: unb64!(p)
                }}
    end

    test "takes a payload that is not JSON, which verify/3 refuses", ctx do
      for payload <- ["hello", <<0, 1, 2, 255>>] do
        token = rt_token(ctx, "ES384", payload)
        assert check_jws(token, ctx.ks) == {:ok, %{header: header_of(token), payload: payload}}
        assert check(token, ctx.ks) == {:error, :bad_payload}
      end
    end

    test "does not check claims", ctx do
      token = rt_token(ctx, "PS256", claims(%{"exp" => @now - 1000, "iss" => "x"}))
      assert {:ok, _} = check_jws(token, ctx.ks, iss: @iss)
      assert check(token, ctx.ks, iss: @iss) == {:error, :expired}
    end

    test "applies the header rules and the signature check", ctx do
      token = rt_token(ctx, "RS256")
      assert check_jws(flip_signature_bit(token), ctx.ks) == {:error, :bad_signature}
      assert check_jws(token, ctx.ks, algs: ["ES256"]) == {:error, :alg_not_allowed}

      assert check_jws(rt_token(ctx, "RS256", claims(), %{"kid" => "x"}), ctx.ks) ==
               {:error, :unknown_kid}

      assert check_jws(rt_token(ctx, "RS256", claims(), %{"jku" => "x"}), ctx.ks) ==
               {:error, :embedded_key}
    end
  end

  describe "peek_unverified/1" do
    test "takes verify's :max_token_bytes and nothing else", ctx do
      token = rt_token(ctx, "RS256")
      size = byte_size(token)
      assert {:ok, _} = JwksVerify.peek_unverified(token, max_token_bytes: size)

      assert JwksVerify.peek_unverified(token, max_token_bytes: size - 1) ==
               {:error, :token_too_large}

      big = token <> String.duplicate("A", 40_000)
      assert JwksVerify.peek_unverified(big) == {:error, :token_too_large}
      assert {:ok, _} = JwksVerify.peek_unverified(big, max_token_bytes: 50_000)

      assert_raise ArgumentError, ~r/unknown option :aud; known options: :max_token_bytes/, fn ->
        JwksVerify.peek_unverified(token, aud: "x")
      end

      assert_raise ArgumentError, ~r/unknown option :aud;/, fn ->
        JwksVerify.peek_unverified(token, max_token_bytes: size, aud: "x")
      end

      assert_raise ArgumentError, ~r/option :max_token_bytes/, fn ->
        JwksVerify.peek_unverified(token, max_token_bytes: 0)
      end
    end

    test "returns header and claims of a valid token, exactly as verify/3 does", ctx do
      token = rt_token(ctx, "ES256", claims(%{"big" => 18_446_744_073_709_551_616, "f" => 1.5}))
      {:ok, verified} = check(token, ctx.ks, aud: @aud)

      assert JwksVerify.peek_unverified(token) ==
               {:ok, %{header: header_of(token), claims: verified}}
    end

    test "checks nothing a verify would: forged, expired, unsigned, unknown kid", ctx do
      forged = token(ctx.attacker.rsa, "RS256", claims(), %{"kid" => "rt-rsa"})
      expired = rt_token(ctx, "RS256", claims(%{"exp" => @now - 7200}))
      unsigned = unsigned_token(~s({"alg":"none"}), ~s({"sub":"x"}))
      hs = hs256_token("secret", %{"sub" => "x"}, %{"kid" => "nobody"})

      assert check(forged, ctx.ks) == {:error, :bad_signature}
      assert {:ok, %{claims: %{"sub" => "user-1"}}} = JwksVerify.peek_unverified(forged)
      assert {:ok, %{claims: %{"exp" => _}}} = JwksVerify.peek_unverified(expired)

      assert JwksVerify.peek_unverified(unsigned) ==
               {:ok, %{header: %{"alg" => "none"}, claims: %{"sub" => "x"}}}

      assert {:ok, %{header: %{"alg" => "HS256", "kid" => "nobody"}}} =
               JwksVerify.peek_unverified(hs)
    end

    test "hostile tokens get verify's reasons", ctx do
      good = rt_token(ctx, "RS256")
      {h, p, s} = segments(good)
      deep = String.duplicate("[", @deep) <> String.duplicate("]", @deep)
      at_limit = String.duplicate("[", 31) <> String.duplicate("]", 31)
      too_deep = String.duplicate("[", 32) <> String.duplicate("]", 32)

      cases = [
        {String.duplicate("a", 32_769), :token_too_large},
        {h <> "." <> p, :malformed_token},
        {good <> ".x", :malformed_token},
        {"." <> p <> "." <> s, :malformed_token},
        {h <> "=." <> p <> "." <> s, :bad_base64},
        {h <> "." <> p <> "+." <> s, :bad_base64},
        {h <> "." <> p <> "." <> s <> "*", :bad_base64},
        {unsigned_token(~s({"alg":"RS256"}) <> " x", "{}"), :bad_header},
        {unsigned_token("[]", "{}"), :bad_header},
        {unsigned_token(~s({"alg":"RS256","alg":"none"}), "{}"), :bad_header},
        {unsigned_token(<<"{\"alg\":\"", 0xFF, "\"}">>, "{}"), :bad_header},
        {unsigned_token(~s({"a":#{deep}}), "{}"), :bad_header},
        {unsigned_token(~s({"a":1e999}), "{}"), :bad_header},
        {unsigned_token(~s({"alg":"RS256"}), <<"{\"sub\":\"", 0xC0, 0x80, "\"}">>), :bad_payload},
        {unsigned_token(~s({"alg":"RS256"}), ~s({"a":#{too_deep}})), :bad_payload},
        {unsigned_token(~s({"alg":"RS256"}), ~s({"sub":"a","sub":"b"})), :bad_payload},
        {unsigned_token(~s({"alg":"RS256"}), ~s({"n":01})), :bad_payload},
        {unsigned_token(~s({"alg":"RS256"}), ~s({"n":1e400})), :bad_payload},
        {unsigned_token(~s({"alg":"RS256"}), "[1]"), :bad_payload},
        {unsigned_token(~s({"alg":"RS256"}), "hello"), :bad_payload}
      ]

      for {token, reason} <- cases do
        assert JwksVerify.peek_unverified(token) == {:error, reason},
               "#{inspect(reason)} for #{inspect(binary_part(token, 0, min(60, byte_size(token))))}"
      end

      assert {:ok, _} = JwksVerify.peek_unverified(unsigned_token("{}", ~s({"a":#{at_limit}})))
    end

    test "a token just under the size limit is read, one byte more is not" do
      prefix = unsigned_token("{}", ~s({"pad":""}))
      {h, _, _} = segments(prefix)
      # payload {"pad":"xxx"} with padding chosen so the token is exactly 32768 bytes
      fill = fn n ->
        h <> "." <> b64(~s({"pad":") <> String.duplicate("x", n) <> ~s("})) <> "."
      end

      n = Enum.find(24_000..24_600, fn n -> byte_size(fill.(n)) == 32_768 end)

      assert {:ok, %{claims: %{"pad" => _}}} = JwksVerify.peek_unverified(fill.(n))
      assert JwksVerify.peek_unverified(fill.(n) <> "A") == {:error, :token_too_large}
    end

    test "a token that is not a binary raises ArgumentError; Erlang gets badarg" do
      assert_raise ArgumentError, ~r/token/, fn -> JwksVerify.peek_unverified(~c"a.b.c") end
      assert_raise ArgumentError, fn -> JwksVerify.peek_unverified(nil) end
      assert {:badarg, _} = catch_error(:jwks_verify.peek_unverified(42))
    end
  end

  describe "options" do
    test "prepared once with options/1 and reused", ctx do
      opts = JwksVerify.options(algs: ["ES256"], now: @now, iss: @iss, aud: @aud, leeway: 5)
      assert JwksVerify.options(opts) == opts
      assert JwksVerify.verify(rt_token(ctx, "ES256"), ctx.ks, opts) == {:ok, claims()}
      assert JwksVerify.verify(rt_token(ctx, "RS256"), ctx.ks, opts) == {:error, :alg_not_allowed}
    end

    test "a map of options is taken too", ctx do
      opts = %{algs: ["ES256"], now: @now, aud: @aud}
      assert JwksVerify.verify(rt_token(ctx, "ES256"), ctx.ks, opts) == {:ok, claims()}
    end

    @bad_options [
      {"an unknown option", [bogus: 1]},
      {"a misspelt option", [alg: ["RS256"]]},
      {"an unknown algorithm", [algs: ["HS256"]]},
      {"alg none", [algs: ["none"]]},
      {"a lowercase algorithm", [algs: ["rs256"]]},
      {"an empty algs", [algs: []]},
      {"algs not a list", [algs: "RS256"]},
      {"algs of atoms", [algs: [:RS256]]},
      {"a negative leeway", [leeway: -1]},
      {"a float leeway", [leeway: 1.5]},
      {"a string now", [now: "1700000000"]},
      {"iss an atom", [iss: :issuer]},
      {"aud a list of atoms", [aud: [:api]]},
      {"required not a list", [required: "exp"]},
      {"typ an atom", [typ: :jwt]},
      {"max_token_bytes zero", [max_token_bytes: 0]},
      {"not a keyword list", [1, 2]}
    ]

    for {name, opts} <- @bad_options do
      test "#{name} raises ArgumentError", ctx do
        token = rt_token(ctx, "RS256")
        assert_raise ArgumentError, fn -> JwksVerify.verify(token, ctx.ks, unquote(opts)) end
        assert_raise ArgumentError, fn -> JwksVerify.options(unquote(opts)) end
      end
    end

    for {name, token} <- [
          {"an integer", 123},
          {"a charlist", ~c"a.b.c"},
          {"nil", nil},
          {"iodata", ["a", ".b.c"]}
        ] do
      test "a token that is #{name} raises ArgumentError", ctx do
        assert_raise ArgumentError, fn -> JwksVerify.verify(unquote(token), ctx.ks, now: @now) end

        assert_raise ArgumentError, fn ->
          JwksVerify.verify_jws(unquote(token), ctx.ks, now: @now)
        end
      end
    end

    test "a key set that is not one raises ArgumentError", ctx do
      token = rt_token(ctx, "RS256")
      assert_raise ArgumentError, fn -> JwksVerify.verify(token, make_ref(), now: @now) end
      assert_raise ArgumentError, fn -> JwksVerify.verify(token, "keys", now: @now) end
      assert_raise ArgumentError, fn -> JwksVerify.key_set_info(make_ref()) end
    end
  end

  # Issue 14: options that would turn a check off, and mistakes said as sentences.
  describe "caller mistakes (fail closed, said clearly)" do
    for {name, opts, pattern} <- [
          {"aud: []", [aud: []], ~r/option :aud: expected a non-empty binary/},
          {"iss: []", [iss: []], ~r/option :iss: expected a non-empty binary/},
          {"iss: ~c\"\"", [iss: ~c""], ~r/option :iss: expected a non-empty binary.*got \[\]/},
          {"iss: \"\"", [iss: ""], ~r/option :iss/},
          {"aud: [\"\"]", [aud: [""]], ~r/option :aud/},
          {"65 audiences", [aud: Enum.map(1..65, &"a#{&1}")], ~r/at most 64 values/},
          {"65 required claims", [required: Enum.map(1..65, &"c#{&1}")], ~r/at most 64/},
          {"a string leeway", [leeway: "5"],
           ~r/option :leeway: expected a non-negative integer \(seconds\), got "5"$/},
          {"a misspelt option", [leewy: 5], ~r/unknown option :leewy \(did you mean :leeway\?\)/},
          {"an unsupported alg", [algs: ["none"]],
           ~r/option :algs: expected a non-empty list of RS256.*got \["none"\]/}
        ] do
      test "#{name} raises at option time with a sentence", ctx do
        assert_raise ArgumentError, unquote(Macro.escape(pattern)), fn ->
          JwksVerify.options(unquote(opts))
        end

        # never later, at verify time
        assert_raise ArgumentError, unquote(Macro.escape(pattern)), fn ->
          JwksVerify.verify(rt_token(ctx, "RS256"), ctx.ks, unquote(opts))
        end
      end
    end

    test "64 audiences are fine and checked", ctx do
      auds = Enum.map(1..63, &"a#{&1}") ++ [@aud]
      assert {:ok, _} = JwksVerify.verify(rt_token(ctx, "RS256"), ctx.ks, now: @now, aud: auds)
    end

    test "messages carry no Erlang tuples or charlists" do
      for opts <- [[leeway: "5"], [algs: ["none"]], [bogus: 1], [aud: []]] do
        message = Exception.message(catch_error(JwksVerify.options(opts)))
        refute message =~ "{"
        refute message =~ "~c"
        refute message =~ "<<"
      end
    end

    test "a JWKS string where a key set goes says what was expected", ctx do
      assert_raise ArgumentError, ~r/got a binary \(a JWKS document\? parse it once/, fn ->
        JwksVerify.verify(rt_token(ctx, "RS256"), ~s({"keys": []}), now: @now)
      end
    end

    test "a PEM passed to key_set/1 says a JWKS JSON document is expected" do
      pem = File.read!(Path.join(__DIR__, "fixtures/keys/rsa2048.pub.pem"))

      assert_raise ArgumentError, ~r/expects a JWKS JSON document/, fn ->
        JwksVerify.key_set(pem)
      end
    end

    test "key_set_info/1 says nil, not :undefined" do
      {:ok, ks} = JwksVerify.key_set(~s({"keys": [{"kty": "OKP", "crv": "Ed25519",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}))

      assert %{keys: [%{kid: nil, alg: nil, kty: "OKP", status: :ok}]} =
               JwksVerify.key_set_info(ks)
    end

    test "options/1 is opaque and inspects readably" do
      opts = JwksVerify.options(algs: ["ES256"], leeway: 5, aud: "api")
      assert %JwksVerify.Options{} = opts
      assert inspect(opts) =~ ~s(#JwksVerify.Options<algs: ["ES256"], aud: ["api"], leeway: 5)
      assert JwksVerify.options(opts) == opts
    end

    test "aud: :any is the one atom :aud takes, and shows in inspect and options_map" do
      assert inspect(JwksVerify.options(aud: :any)) =~ "aud: :any"
      assert %{aud: :any} = :jwks_verify.options_map(:jwks_verify.options(%{aud: :any}))

      for bad <- [:all, nil, true, "", [], [:any]] do
        assert_raise ArgumentError, ~r/:aud.*atom any/s, fn -> JwksVerify.options(aud: bad) end
      end
    end
  end

  describe "check_scopes/2" do
    test "scope string and scp array both grant, together too" do
      assert JwksVerify.check_scopes(%{"scope" => "  read   write "}, ["write", "read"]) == :ok
      assert JwksVerify.check_scopes(%{"scp" => ["read", "write"]}, ["write"]) == :ok
      assert JwksVerify.check_scopes(%{"scp" => "read write"}, ["write"]) == :ok

      assert JwksVerify.check_scopes(%{"scope" => "read", "scp" => ["write"]}, ["read", "write"]) ==
               :ok

      assert JwksVerify.check_scopes(%{}, []) == :ok
    end

    test "a scope is matched whole, never as a prefix or case-folded" do
      for {claims, want} <- [
            {%{"scope" => "read:all"}, "read"},
            {%{"scope" => "read"}, "read:all"},
            {%{"scope" => "READ"}, "read"},
            {%{"scp" => ["read write"]}, "read"},
            {%{"scope" => 1}, "read"},
            {%{"scp" => [1, nil]}, "read"},
            {%{}, "read"}
          ] do
        assert JwksVerify.check_scopes(claims, [want]) == {:error, {:insufficient_scope, [want]}}
      end
    end

    test "required scopes must be a list of non-empty strings" do
      assert_raise ArgumentError, ~r/scopes/, fn -> JwksVerify.check_scopes(%{}, "read") end
      assert_raise ArgumentError, ~r/scopes/, fn -> JwksVerify.check_scopes(%{}, [""]) end
    end
  end

  describe "sharing" do
    test "one key set serves many processes at once, also from ETS", ctx do
      table = :ets.new(:shared_key_set, [:set, :public, read_concurrency: true])
      :ets.insert(table, {:ks, ctx.ks})
      tokens = for alg <- @algs, do: rt_token(ctx, alg)

      results =
        1..32
        |> Enum.map(fn _ ->
          Task.async(fn ->
            [{:ks, ks}] = :ets.lookup(table, :ks)
            for _ <- 1..10, t <- tokens, do: check(t, ks)
          end)
        end)
        |> Enum.flat_map(&Task.await(&1, 30_000))

      assert length(results) == 32 * 10 * length(@algs)
      assert Enum.all?(results, &(&1 == {:ok, claims()}))
    end
  end

  describe "reasons/0" do
    setup do
      %{reasons: JwksVerify.reasons()}
    end

    test "lists atoms, each once", %{reasons: reasons} do
      assert reasons != []
      assert Enum.all?(reasons, &is_atom/1)
      assert Enum.uniq(reasons) == reasons
    end

    test "every reason is in @type reason and its @typedoc", %{reasons: reasons} do
      {:docs_v1, _, _, _, _, _, docs} = Code.fetch_docs(JwksVerify)

      {_, _, _, %{"en" => typedoc}, _} =
        Enum.find(docs, &match?({{:type, :reason, 0}, _, _, _, _}, &1))

      typed = spec_atoms(JwksVerify, :reason)
      erlang_typed = spec_atoms(:jwks_verify, :reason)

      assert Enum.reject(reasons, &Regex.match?(~r/:#{&1}\b/, typedoc)) == [],
             "missing from the @typedoc of JwksVerify.reason"

      assert reasons -- typed == [], "missing from @type JwksVerify.reason"
      assert reasons -- erlang_typed == [], "missing from jwks_verify's -type reason()"
    end

    test "every reason is in README.md's reason table", %{reasons: reasons} do
      readme = Path.expand("../README.md", __DIR__)

      if File.exists?(readme) do
        rows =
          readme
          |> File.read!()
          |> String.split("\n")
          |> Enum.filter(&String.starts_with?(&1, "|"))

        missing =
          Enum.reject(reasons, fn r -> Enum.any?(rows, &Regex.match?(~r/\b#{r}\b/, &1)) end)

        assert missing == [], "missing from README.md's tables"
      end
    end
  end

  ## private helpers

  defp assert_refused(where, result) do
    assert match?({:error, r} when is_atom(r) or is_tuple(r), result),
           "at #{where}: expected {:error, reason}, got #{inspect(result)}"
  end

  # The base64url character after c (same high bits, low bit set).
  defp next_b64(c) do
    alphabet = ~c"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    i = Enum.find_index(alphabet, &(&1 == c))
    Enum.at(alphabet, i + 1)
  end

  # Pads a JSON object with spaces until byte_size rem 3 == r.
  defp pad_to_rem(json, r) do
    if rem(byte_size(json), 3) == r, do: json, else: pad_to_rem(json <> " ", r)
  end

  defp rsa_public_pem(%{private: k}) do
    pub = {:RSAPublicKey, elem(k, 2), elem(k, 3)}
    :public_key.pem_encode([:public_key.pem_entry_encode(:SubjectPublicKeyInfo, pub)])
  end

  defp public_key_verify("RS" <> bits, input, sig, pub),
    do: :public_key.verify(input, sha(bits), sig, pub)

  defp public_key_verify("PS" <> bits, input, sig, pub) do
    opts = [rsa_padding: :rsa_pkcs1_pss_padding, rsa_pss_saltlen: div(String.to_integer(bits), 8)]
    :public_key.verify(input, sha(bits), sig, pub, opts)
  end

  defp public_key_verify("ES" <> bits, input, sig, pub) do
    half = div(byte_size(sig), 2)
    <<r::size(half * 8), s::size(half * 8)>> = sig
    der = :public_key.der_encode(:"ECDSA-Sig-Value", {:"ECDSA-Sig-Value", r, s})
    :public_key.verify(input, sha(bits), der, pub)
  end

  defp public_key_verify("EdDSA", input, sig, pub), do: :public_key.verify(input, :none, sig, pub)

  defp sha(bits), do: String.to_atom("sha" <> bits)

  # Atoms named by a type (union members, and the tags of {atom, _} tuples).
  defp spec_atoms(module, name) do
    {:ok, types} = Code.Typespec.fetch_types(module)

    {_, {^name, ast, []}} =
      Enum.find(types, &match?({kind, {^name, _, []}} when kind in [:type, :opaque], &1))

    collect_atoms(ast)
  end

  defp collect_atoms({:atom, _, a}), do: [a]
  defp collect_atoms({:type, _, :union, members}), do: Enum.flat_map(members, &collect_atoms/1)
  defp collect_atoms({:type, _, :tuple, [{:atom, _, a} | _]}), do: [a]
  defp collect_atoms(_), do: []
end
