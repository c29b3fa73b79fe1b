# Guards the key and header checks issue 10 demands, each with its own negative
# test and exact reason, independent of the Wycheproof vectors: a key's alg
# binds it; use/key_ops disqualify; private key material (and its public twin)
# is refused as private_key; EC points on their curve; kty and crv fit
# the alg; weak RSA exponents and ROCA moduli refused; PSS salt as long as the
# hash; ECDSA r and s in [1, n-1]; exact signature lengths; the header is
# signed; exactly three parts. Tokens are signed with OTP's :public_key (see
# JwksVerify.TokenHelpers); each refusal is asserted for verify_jws/3 and
# verify/3 alike, since one code path serves both.
defmodule JwksVerify.KeyChecksTest do
  use ExUnit.Case, async: true

  import Bitwise
  import JwksVerify.TokenHelpers

  @now 1_700_000_000
  @claims %{"sub" => "key-checks", "exp" => @now + 3600}

  # Wycheproof json_web_key_test.json, group jws_rsa_roca_key (C2SP/wycheproof,
  # Apache-2.0): a 2049-bit modulus with the ROCA fingerprint, and a token its
  # private key signed over "foo".
  @roca_n "AanFpofbj7KjD4Lf-N2hVMKR7yewSyXhhbirIMTGpfYEhZ_lnt5UoK98DnKIgArXGTu3MaW_HhFw16HGaTDUHqPrId7fe4r11CqRw09yBFuW79V8sYIwHdzCaWflUI6auImYbVfoN9_nD5n8N8SY9DwXw7mwZM9wREPXoDPgOoIWl6q_MPsp7n0zs3Z5ZaiQWOOzl1S9OhwAfSiiOwz6efnXEaxuTEtPd7BjSx7NaFka8Dx9U7YqXy2RFj1O9PjyaDGuRh7YXsX3iMUSP_wSyHQg_c_qHRtKUsNSGCT7OZg0hzm2KphtjnayKJvC64vAbROBR4Ubg6Bxg9IQVZ-QYyE"
  @roca_e "AQAB"
  @roca_token "eyJhbGciOiJSUzI1NiIsImtpZCI6ImtpZC1yc2Etcm9jYS1zaWduIn0.Zm9v.AF_6dFYBEaaI5OlOehaktwYarwKZwFFeKTNwz9ar6ntNh4k8oeQwiODJqT1nnX2KhrWMUc80JJIdaCq3y7wOSmlPrqRgrL5r9xqfQdokirCuynoq4Lbi226VlZmijmkyYtSeEbzvkhyjbY8cDQF_c2DMMQG8FBRNJPOSTxi_I75Twj0877G-16i3bAWcvFxcNKGQzSQNcp5Lvh15N2I3PDM5W7HaFwPO0drzLR9dsDW9uDCqHvMMyshC7rgZdqfXpkaJL8Whn_mUScnLxS7J-2wVt9xKY3LpR97HoanIK-rcqYS_eq9hY_65te4qbwPCtQMjipIgIGo9HZrNRomAB1c"

  # RFC 8017 §9.2 note 1: the DER DigestInfo prefix for SHA-256.
  @sha256_prefix Base.decode16!("3031300D060960864801650304020105000420")

  setup_all do
    %{
      rsa: rsa_key(),
      p256: ec_key("P-256"),
      p384: ec_key("P-384"),
      p521: ec_key("P-521"),
      ed: ed25519_key()
    }
  end

  describe "a key's alg binds it to that alg" do
    test "a token of another alg is refused", %{rsa: rsa} do
      jwks = [public_jwk(rsa, %{"kid" => "k", "alg" => "RS256"})]
      assert_ok(jwks, signed(rsa, "RS256", "k"), ["RS256", "PS256"])
      assert_refused(jwks, signed(rsa, "PS256", "k"), ["RS256", "PS256"], :key_alg_mismatch)
    end

    test "an alg we don't implement binds the key to nothing we accept", %{p256: ec} do
      jwks = [public_jwk(ec, %{"kid" => "k", "alg" => "ES224"})]
      assert_refused(jwks, signed(ec, "ES256", "k"), ["ES256"], :key_alg_mismatch)
    end

    test "without a kid, a key bound to another alg is not tried", %{rsa: rsa} do
      jwks = [public_jwk(rsa, %{"alg" => "RS256"})]
      assert_refused(jwks, signed(rsa, "PS256"), ["PS256"], :no_matching_key)
    end
  end

  describe "use and key_ops (RFC 7517 §4.2, §4.3)" do
    @refused [
      %{"use" => "enc"},
      %{"use" => "sig", "key_ops" => ["encrypt"]},
      %{"key_ops" => ["encrypt", "decrypt"]},
      %{"key_ops" => ["sign"]},
      %{"key_ops" => ["sign, verify"]},
      %{"key_ops" => []},
      %{"key_ops" => "verify"}
    ]

    for members <- @refused do
      @members members
      test "#{:jiffy.encode(members)} disqualifies the key", %{p256: ec} do
        jwks = [public_jwk(ec, Map.put(@members, "kid", "k"))]
        assert_status(jwks, :key_not_for_signing)
        assert_refused(jwks, signed(ec, "ES256", "k"), ["ES256"], :key_not_for_signing)
        # Without a kid the key is found by its type, and still refused.
        jwks = [public_jwk(ec, @members)]
        assert_refused(jwks, signed(ec, "ES256"), ["ES256"], :key_not_for_signing)
      end
    end

    for members <- [
          %{"use" => "sig"},
          %{"key_ops" => ["verify"]},
          %{"key_ops" => ~w(sign verify)}
        ] do
      @members members
      test "#{:jiffy.encode(members)} allows verification", %{p256: ec} do
        assert_ok([public_jwk(ec, @members)], signed(ec, "ES256"), ["ES256"])
      end
    end
  end

  describe "private key material in the JWKS (private_key)" do
    # What erlang-jose writes for a private key: the whole JWK, d and all.
    for alg <- ~w(RS256 ES256 EdDSA) do
      @alg alg
      test "#{alg}: a private JWK as published is refused, never used for its public half" do
        jwk = jose_key(@alg)
        {_, private} = :jose_jwk.to_map(jwk)
        assert Map.has_key?(private, "d")
        jwks = [Map.put(private, "kid", "leaked")]
        token = jose_token(jwk, @alg, @claims, %{"kid" => "leaked"})

        assert_status(jwks, :private_key)
        assert_refused(jwks, token, [@alg], :private_key)
        # Without a kid the key is found by its type, and still refused.
        assert_refused([private], jose_token(jwk, @alg, @claims), [@alg], :private_key)
      end
    end

    for member <- ~w(d p q dp dq qi oth k) do
      @member member
      test "a #{member} member makes a public JWK private", %{rsa: rsa, p256: ec, ed: ed} do
        for key <- [rsa, ec, ed] do
          assert_status([public_jwk(key, %{@member => "AQAB"})], :private_key)
        end
      end
    end

    test "an oct key with its secret k is private_key, without it unsupported_key" do
      assert_status([%{"kty" => "oct", "k" => "c2VjcmV0"}], :private_key)
      assert_status([%{"kty" => "oct"}], :unsupported_key)
    end

    test "the public twin of a private JWK is refused too; other keys still verify", ctx do
      {:RSAPrivateKey, _, _n, _e, d, _, _, _, _, _, _} = ctx.rsa.private
      private = public_jwk(ctx.rsa, %{"kid" => "leaked", "d" => b64(:binary.encode_unsigned(d))})

      jwks = [
        private,
        public_jwk(ctx.rsa, %{"kid" => "twin"}),
        public_jwk(ctx.p256, %{"kid" => "ec"})
      ]

      {:ok, ks} = JwksVerify.key_set(jwks_json(jwks))

      assert %{
               usable: 1,
               keys: [%{status: :private_key}, %{status: :private_key}, %{status: :ok}]
             } = JwksVerify.key_set_info(ks)

      assert_refused(jwks, signed(ctx.rsa, "RS256", "twin"), ["RS256"], :private_key)
      assert_ok(jwks, signed(ctx.p256, "ES256", "ec"), ["ES256"])
    end

    test "the guard says so without echoing the key" do
      assert :jwks_verify_guard.details(:private_key) == "private key in jwks"
    end
  end

  describe "EC points" do
    for crv <- ["P-256", "P-384", "P-521"] do
      @crv crv
      test "a #{crv} point off the curve is refused", ctx do
        {key, alg} = {ctx[curve_key(@crv)], curve_alg(@crv)}
        jwk = public_jwk(key, %{"kid" => "k"})
        # y with its lowest bit flipped: for this x only y and p - y are on the curve.
        y = unb64!(jwk["y"])
        <<head::binary-size(byte_size(y) - 1), last>> = y
        bad = Map.put(jwk, "y", b64(<<head::binary, bxor(last, 1)>>))
        assert_status([bad], :invalid_ec_point)
        assert_refused([bad], signed(key, alg, "k"), [alg], :invalid_ec_point)
      end
    end
  end

  describe "key type and curve fit the alg" do
    test "a P-384 key under ES256 is refused (crv)", %{p384: p384} do
      # ES256's hash, signed with the P-384 key.
      jwks = [public_jwk(p384, %{"kid" => "k"})]
      assert_refused(jwks, signed(p384, "ES256", "k"), ["ES256"], :key_type_mismatch)
    end

    test "a P-256 key under ES512 is refused (crv)", %{p256: p256} do
      jwks = [public_jwk(p256, %{"kid" => "k"})]
      assert_refused(jwks, signed(p256, "ES512", "k"), ["ES512"], :key_type_mismatch)
    end

    test "an RSA key under ES256 is refused (kty)", %{rsa: rsa, p256: ec} do
      jwks = [public_jwk(rsa, %{"kid" => "k"})]
      assert_refused(jwks, signed(ec, "ES256", "k"), ["ES256"], :key_type_mismatch)
    end

    test "an EC key under RS256 is refused (kty)", %{rsa: rsa, p256: ec} do
      jwks = [public_jwk(ec, %{"kid" => "k"})]
      assert_refused(jwks, signed(rsa, "RS256", "k"), ["RS256"], :key_type_mismatch)
    end

    test "an EC key under EdDSA is refused (kty)", %{p256: ec, ed: ed} do
      jwks = [public_jwk(ec, %{"kid" => "k"})]
      assert_refused(jwks, signed(ed, "EdDSA", "k"), ["EdDSA"], :key_type_mismatch)
    end

    test "an Ed25519 key under ES256 is refused (kty)", %{p256: ec, ed: ed} do
      jwks = [public_jwk(ed, %{"kid" => "k"})]
      assert_refused(jwks, signed(ec, "ES256", "k"), ["ES256"], :key_type_mismatch)
    end
  end

  describe "RSA public exponent" do
    test "e = 1 is refused, though a forged signature verifies under it", %{rsa: rsa} do
      jwks = [public_jwk(rsa, %{"kid" => "k", "e" => b64(<<1>>)})]
      input = b64(~s({"alg":"RS256","kid":"k"})) <> "." <> b64(json(@claims))
      # With e = 1, s^e mod n = s: the EMSA-PKCS1-v1_5 encoding itself "verifies".
      t = @sha256_prefix <> :crypto.hash(:sha256, input)
      em = <<0, 1>> <> :binary.copy(<<0xFF>>, 256 - byte_size(t) - 3) <> <<0>> <> t
      assert :public_key.verify(input, :sha256, em, rsa_public(rsa, 1))
      assert_status(jwks, :weak_rsa_exponent)
      assert_refused(jwks, input <> "." <> b64(em), ["RS256"], :weak_rsa_exponent)
    end

    test "e = 3 is refused, though the token is genuinely signed" do
      rsa3 = rsa_key(2048, 3)
      jwks = [public_jwk(rsa3, %{"kid" => "k"})]
      assert_status(jwks, :weak_rsa_exponent)
      assert_refused(jwks, signed(rsa3, "RS256", "k"), ["RS256"], :weak_rsa_exponent)
    end

    for e <- [2, 65_536, 65_538, 1 <<< 32] do
      @e e
      test "even e = #{e} is refused", %{rsa: rsa} do
        jwks = [public_jwk(rsa, %{"kid" => "k", "e" => b64(:binary.encode_unsigned(@e))})]
        assert_status(jwks, :weak_rsa_exponent)
        assert_refused(jwks, signed(rsa, "RS256", "k"), ["RS256"], :weak_rsa_exponent)
      end
    end
  end

  describe "ROCA (CVE-2017-15361)" do
    test "a modulus with the fingerprint is refused, though the token is genuinely signed" do
      jwks = [%{"kty" => "RSA", "kid" => "kid-rsa-roca-sign", "n" => @roca_n, "e" => @roca_e}]
      assert_status(jwks, :roca_weak_key)
      assert_refused(jwks, @roca_token, ["RS256"], :roca_weak_key)
    end

    test "the same modulus with one bit changed loses the fingerprint" do
      <<head::binary-size(256), last>> = unb64!(@roca_n)
      n = b64(<<head::binary, bxor(last, 2)>>)
      jwks = [%{"kty" => "RSA", "kid" => "kid-rsa-roca-sign", "n" => n, "e" => @roca_e}]
      assert_status(jwks, :ok)
      assert_refused(jwks, @roca_token, ["RS256"], :bad_signature)
    end
  end

  describe "RSASSA-PSS salt length (RFC 7518 §3.5)" do
    for {alg, salt} <- [{"PS384", 0}, {"PS384", 32}, {"PS256", 0}, {"PS256", 64}, {"PS512", 32}] do
      @alg alg
      @salt salt
      test "#{alg} with a #{salt}-byte salt is refused", %{rsa: rsa} do
        input = b64(json(%{"alg" => @alg})) <> "." <> b64(json(@claims))
        sig = pss_sign(rsa, @alg, input, @salt)
        # A genuine PSS signature, only with the wrong salt length.
        assert pss_verify(rsa, @alg, input, sig, @salt)
        assert_refused([public_jwk(rsa)], input <> "." <> b64(sig), [@alg], :bad_signature)
      end
    end

    for {alg, salt} <- [{"PS256", 32}, {"PS384", 48}, {"PS512", 64}] do
      @alg alg
      @salt salt
      test "#{alg} with a #{salt}-byte salt passes", %{rsa: rsa} do
        input = b64(json(%{"alg" => @alg})) <> "." <> b64(json(@claims))
        sig = pss_sign(rsa, @alg, input, @salt)
        assert_ok([public_jwk(rsa)], input <> "." <> b64(sig), [@alg])
      end
    end
  end

  describe "ECDSA r and s in [1, n-1] (FIPS 186-4 §6.4)" do
    for crv <- ["P-256", "P-521"] do
      @crv crv
      test "#{crv}: r or s zero or not below n is refused", ctx do
        {key, alg, n} = {ctx[curve_key(@crv)], curve_alg(@crv), order(@crv)}
        bits = coord_bytes(@crv) * 8
        jwks = [public_jwk(key)]
        tok = signed(key, alg)
        <<r0::size(bits), s0::size(bits)>> = signature(tok)
        with_rs = fn r, s -> with_signature(tok, <<r::size(bits), s::size(bits)>>) end
        assert_ok(jwks, with_rs.(r0, s0), [alg])

        out = [{0, s0}, {r0, 0}, {0, 0}, {n, s0}, {r0, n}, {n + 1, s0}, {(1 <<< bits) - 1, s0}]

        for {r, s} <- out do
          assert_refused(jwks, with_rs.(r, s), [alg], :signature_out_of_range)
        end

        # The ends of the range are in range: just wrong.
        assert_refused(jwks, with_rs.(1, n - 1), [alg], :bad_signature)
        assert_refused(jwks, with_rs.(n - 1, 1), [alg], :bad_signature)
      end
    end
  end

  describe "signature length" do
    test "ES256: 0, 63 and 65 bytes, and DER, are refused", %{p256: ec} do
      {jwks, tok} = {[public_jwk(ec)], signed(ec, "ES256")}
      sig = signature(tok)
      [h, p, _] = String.split(tok, ".")
      der = :public_key.sign(h <> "." <> p, :sha256, ec.private)

      for bad <- [<<>>, binary_part(sig, 0, 63), sig <> <<0>>, der] do
        assert_refused(jwks, with_signature(tok, bad), ["ES256"], :bad_signature_length)
      end
    end

    test "ES512: 64-byte r and s are refused (P-521 needs 66)", %{p521: ec} do
      {jwks, tok} = {[public_jwk(ec)], signed(ec, "ES512")}
      <<r::binary-size(66), s::binary-size(66)>> = signature(tok)
      short = binary_part(r, 2, 64) <> binary_part(s, 2, 64)
      assert_refused(jwks, with_signature(tok, short), ["ES512"], :bad_signature_length)
    end

    test "RS256: 255, 257 and 0 bytes are refused", %{rsa: rsa} do
      {jwks, tok} = {[public_jwk(rsa)], signed(rsa, "RS256")}
      sig = signature(tok)

      for bad <- [binary_part(sig, 1, 255), <<0>> <> sig, <<>>] do
        assert_refused(jwks, with_signature(tok, bad), ["RS256"], :bad_signature_length)
      end
    end

    test "EdDSA: 63 and 65 bytes are refused", %{ed: ed} do
      {jwks, tok} = {[public_jwk(ed)], signed(ed, "EdDSA")}
      sig = signature(tok)

      for bad <- [binary_part(sig, 0, 63), sig <> <<0>>] do
        assert_refused(jwks, with_signature(tok, bad), ["EdDSA"], :bad_signature_length)
      end
    end
  end

  describe "the header is signed" do
    @signed_header ~s({"alg":"RS256","kid":"k","typ":"JWT"})
    @altered [
      {"a member changed", ~s({"alg":"RS256","kid":"k","typ":"JOSE"})},
      {"a member added", ~s({"alg":"RS256","kid":"k","typ":"JWT","x":1})},
      {"a member removed", ~s({"alg":"RS256","kid":"k"})},
      {"the alg changed within its family", ~s({"alg":"RS384","kid":"k","typ":"JWT"})},
      {"the same members, other whitespace", ~s({"alg": "RS256","kid":"k","typ":"JWT"})}
    ]

    for {what, header} <- @altered do
      @header header
      test "#{what}: bad_signature", %{rsa: rsa} do
        jwks = [public_jwk(rsa, %{"kid" => "k"})]
        [h, p, s] = String.split(token(rsa, "RS256", @claims, @signed_header), ".")
        assert_ok(jwks, Enum.join([h, p, s], "."), ["RS256"])
        tok = Enum.join([b64(@header), p, s], ".")
        assert_refused(jwks, tok, ["RS256", "RS384"], :bad_signature)
      end
    end

    test "the payload emptied: bad_signature", %{rsa: rsa} do
      [h, _, s] = String.split(signed(rsa, "RS256"), ".")
      assert_refused([public_jwk(rsa)], h <> ".." <> s, ["RS256"], :bad_signature)
    end
  end

  describe "exactly three parts" do
    test "extra or missing parts: malformed_token", %{rsa: rsa} do
      tok = signed(rsa, "RS256")
      [h, p, s] = String.split(tok, ".")

      for bad <- [
            tok <> ".",
            tok <> ".e30",
            Enum.join([h, p, "", s], "."),
            Enum.join([h, "", p, p, s], "."),
            h <> "." <> p,
            "." <> p <> "." <> s,
            h,
            ""
          ] do
        assert_refused([public_jwk(rsa)], bad, ["RS256"], :malformed_token)
      end
    end
  end

  ## Helpers

  # A token over @claims signed with :public_key, with a kid when given.
  defp signed(key, alg, kid \\ nil), do: token(key, alg, @claims, %{"kid" => kid})

  defp signature(token), do: token |> String.split(".") |> List.last() |> unb64!()

  defp with_signature(token, sig) do
    [h, p, _] = String.split(token, ".")
    Enum.join([h, p, b64(sig)], ".")
  end

  defp verify_jws(jwks, token, algs) do
    with {:ok, ks} <- JwksVerify.key_set(jwks_json(jwks)) do
      JwksVerify.verify_jws(token, ks, algs: algs)
    end
  end

  defp verify(jwks, token, algs) do
    with {:ok, ks} <- JwksVerify.key_set(jwks_json(jwks)) do
      JwksVerify.verify(token, ks, algs: algs, now: @now)
    end
  end

  defp assert_refused(jwks, token, algs, reason) do
    assert verify_jws(jwks, token, algs) == {:error, reason}
    assert verify(jwks, token, algs) == {:error, reason}
  end

  defp assert_ok(jwks, token, algs) do
    assert {:ok, %{payload: payload}} = verify_jws(jwks, token, algs)
    assert :jiffy.decode(payload, [:return_maps]) == @claims
    assert verify(jwks, token, algs) == {:ok, @claims}
  end

  defp assert_status(jwks, status) do
    {:ok, ks} = JwksVerify.key_set(jwks_json(jwks))
    assert [%{status: ^status}] = JwksVerify.key_set_info(ks).keys
  end

  defp pss_sign(%{private: k}, alg, input, salt),
    do: :public_key.sign(input, pss_hash(alg), k, pss_opts(salt))

  defp pss_verify(%{private: k} = key, alg, input, sig, salt) do
    :public_key.verify(input, pss_hash(alg), sig, rsa_public(key, elem(k, 3)), pss_opts(salt))
  end

  # An RSAPublicKey record with the key's modulus (RSAPrivateKey's 2nd field) and exponent e.
  defp rsa_public(%{private: k}, e), do: {:RSAPublicKey, elem(k, 2), e}

  defp pss_opts(salt), do: [rsa_padding: :rsa_pkcs1_pss_padding, rsa_pss_saltlen: salt]

  defp pss_hash("PS256"), do: :sha256
  defp pss_hash("PS384"), do: :sha384
  defp pss_hash("PS512"), do: :sha512

  defp curve_key("P-256"), do: :p256
  defp curve_key("P-384"), do: :p384
  defp curve_key("P-521"), do: :p521

  defp curve_alg("P-256"), do: "ES256"
  defp curve_alg("P-384"), do: "ES384"
  defp curve_alg("P-521"), do: "ES512"

  defp coord_bytes("P-256"), do: 32
  defp coord_bytes("P-384"), do: 48
  defp coord_bytes("P-521"), do: 66

  # The group order n, from OTP's curve table.
  defp order(crv) do
    name = %{"P-256" => :secp256r1, "P-384" => :secp384r1, "P-521" => :secp521r1}[crv]
    {_field, _curve, _base, n, _cofactor} = :crypto.ec_curve(name)
    :binary.decode_unsigned(n)
  end
end
