# Guards :jwks_verify_signer, the one signer every test, the hostile corpus,
# the fuzz seeds, the benchmark and the demo use: what it signs verifies with
# OTP's :public_key (an independent check) and with jwks_verify, for every
# algorithm; ES signatures are raw r || s of the curve's size; PS salts are as
# long as the hash; its JWKS parses; its keys and signatures agree with the
# openssl-made fixtures (RSA PKCS #1 v1.5 and Ed25519 signatures are
# deterministic, so they must match byte for byte).
defmodule JwksVerify.SignerTest do
  use ExUnit.Case, async: true

  import Bitwise
  alias :jwks_verify_signer, as: Signer
  import JwksVerify.TokenHelpers, only: [fixture_path: 1, fixture_token: 1, unb64!: 1]

  @algs ~w(RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA)
  @now 1_700_000_100
  @claims %{"sub" => "alice", "exp" => @now + 60, "scope" => "read"}

  setup_all do
    %{keys: Map.new(@algs, &{&1, Signer.generate_key(&1)})}
  end

  describe "sign/2" do
    test "verifies with :public_key for every algorithm", %{keys: keys} do
      for alg <- @algs do
        key = keys[alg]
        [h, p, s] = String.split(Signer.sign(@claims, key), ".")

        assert public_key_verify(alg, h <> "." <> p, unb64!(s), Signer.public_key(key)),
               "#{alg} does not verify with :public_key"
      end
    end

    test "verifies with jwks_verify for every algorithm, to exactly the claims", %{keys: keys} do
      for alg <- @algs do
        {:ok, ks} = :jwks_verify.key_set(Signer.jwks([keys[alg]]))
        token = Signer.sign(@claims, keys[alg])
        assert :jwks_verify.verify(token, ks, %{algs: [alg], now: @now}) == {:ok, @claims}, alg
      end
    end

    test "writes the header alg, kid, typ and the claims as compact sorted JSON", %{keys: keys} do
      key = keys["ES256"]
      [h, p, _] = String.split(Signer.sign(%{b: [1, 2.5, true, :null], a: "x"}, key), ".")
      kid = Signer.public_jwk(key)["kid"]
      assert unb64!(h) == ~s({"alg":"ES256","kid":"#{kid}","typ":"JWT"})
      assert unb64!(p) == ~s({"a":"x","b":[1,2.5,true,null]})
    end
  end

  describe "JSON" do
    test "round-trips through jwks_verify: bignums, floats, escapes, Unicode", %{keys: keys} do
      claims = %{
        "exp" => @now + 60,
        "big" => 123_456_789_012_345_678_901_234_567_890,
        "neg" => -(1 <<< 70),
        "floats" => [0.1, -2.5e-300, 1.0e300, 5.0e-324],
        "text" => "quote \" backslash \\ slash / tab \t newline \n bell \a é 😀",
        "nested" => %{"l" => [true, false, :null, [], %{}]}
      }

      {:ok, ks} = :jwks_verify.key_set(Signer.jwks([keys["EdDSA"]]))
      token = Signer.sign(claims, keys["EdDSA"])
      assert :jwks_verify.verify(token, ks, %{algs: ["EdDSA"], now: @now}) == {:ok, claims}
      assert :jiffy.decode(unb64!(Enum.at(String.split(token, "."), 1)), [:return_maps]) == claims
    end

    test "refuses what JSON cannot hold", %{keys: keys} do
      for bad <- [%{"t" => {1, 2}}, %{"pid" => self()}, %{{:k} => 1}, %{"a" => :other}] do
        assert_raise ArgumentError, fn -> Signer.sign(bad, keys["ES256"]) end
      end
    end
  end

  describe "signatures" do
    test "ES signatures are raw r || s of the curve's size, whatever r and s are", %{keys: keys} do
      for {alg, size} <- [{"ES256", 64}, {"ES384", 96}, {"ES512", 132}], i <- 1..40 do
        assert byte_size(Signer.signature("input #{i}", keys[alg])) == size, alg
      end
    end

    test "ecdsa_encoding: :der gives the DER signature :public_key verifies", %{keys: keys} do
      der = Signer.signature("input", keys["ES384"], %{ecdsa_encoding: :der})
      assert {:"ECDSA-Sig-Value", _, _} = :public_key.der_decode(:"ECDSA-Sig-Value", der)
      assert :public_key.verify("input", :sha384, der, Signer.public_key(keys["ES384"]))
    end

    test "PS salts are as long as the hash (RFC 7518 §3.5); pss_salt_length changes it",
         %{keys: keys} do
      for {alg, md, salt} <- [
            {"PS256", :sha256, 32},
            {"PS384", :sha384, 48},
            {"PS512", :sha512, 64}
          ] do
        pub = Signer.public_key(keys[alg])
        sig = Signer.signature("input", keys[alg])
        assert :public_key.verify("input", md, sig, pub, pss(md, salt)), alg
        refute :public_key.verify("input", md, sig, pub, pss(md, 0)), alg

        short = Signer.signature("input", keys[alg], %{pss_salt_length: 0})
        assert :public_key.verify("input", md, short, pub, pss(md, 0)), alg
      end
    end

    test "alg signs with another algorithm of the key's type, and names it", %{keys: keys} do
      key = keys["RS256"]
      token = Signer.sign(@claims, key, %{alg: "PS512"})
      [h, p, s] = String.split(token, ".")
      assert %{"alg" => "PS512"} = :jiffy.decode(unb64!(h), [:return_maps])
      assert public_key_verify("PS512", h <> "." <> p, unb64!(s), Signer.public_key(key))
    end

    test "digest overrides the algorithm's hash", %{keys: keys} do
      sig = Signer.signature("input", keys["ES256"], %{digest: :sha384, ecdsa_encoding: :der})
      assert :public_key.verify("input", :sha384, sig, Signer.public_key(keys["ES256"]))
      refute :public_key.verify("input", :sha256, sig, Signer.public_key(keys["ES256"]))
    end
  end

  describe "sign/3 and sign_compact/3" do
    test "kid and header options shape the header", %{keys: keys} do
      key = keys["EdDSA"]
      header = fn token -> token |> String.split(".") |> hd() |> unb64!() end

      assert header.(Signer.sign(@claims, key, %{kid: :undefined})) ==
               ~s({"alg":"EdDSA","typ":"JWT"})

      assert header.(Signer.sign(@claims, key, %{kid: "k1", header: %{"typ" => :undefined}})) ==
               ~s({"alg":"EdDSA","kid":"k1"})

      assert header.(Signer.sign(@claims, key, %{header: %{"kid" => 7, "x5u" => "u"}})) ==
               ~s({"alg":"EdDSA","kid":7,"typ":"JWT","x5u":"u"})
    end

    test "sign_compact signs header and payload bytes exactly as given", %{keys: keys} do
      key = keys["RS256"]
      header = ~s({"alg":"RS256", "alg":"none"})
      token = Signer.sign_compact(header, "not json \xff", key)
      [h, p, s] = String.split(token, ".")
      assert {unb64!(h), unb64!(p)} == {header, "not json \xff"}
      assert public_key_verify("RS256", h <> "." <> p, unb64!(s), Signer.public_key(key))
    end

    test "a binary payload is signed as it is", %{keys: keys} do
      [_, p, _] = String.split(Signer.sign("[1,2]", keys["ES512"]), ".")
      assert unb64!(p) == "[1,2]"
    end
  end

  describe "keys and JWKS" do
    test "jwks/1 emits a document jwks_verify and erlang-jose parse, kid = RFC 7638 thumbprint",
         %{keys: keys} do
      doc = Signer.jwks(Map.values(keys))
      {:ok, ks} = :jwks_verify.key_set(doc)
      assert %{usable: 10, skipped: 0} = :jwks_verify.key_set_info(ks)

      :jose.json_module(:jose_json_jiffy)

      for %{"kid" => kid, "alg" => alg, "use" => "sig"} = jwk <-
            :jiffy.decode(doc, [:return_maps])["keys"] do
        assert kid == :jose_jwk.thumbprint(:jose_jwk.from_map(jwk)), alg
      end
    end

    test "jwks/1 writes maps that are not keys as they are", %{keys: keys} do
      doc = Signer.jwks([keys["EdDSA"], %{"kty" => "oct", "kid" => "h", "k" => "c2VjcmV0"}])
      assert [%{"kty" => "OKP"}, %{"kty" => "oct"}] = :jiffy.decode(doc, [:return_maps])["keys"]
    end

    test "generate_key/2: bits, e and kid" do
      key = Signer.generate_key("PS256", %{bits: 3072, e: 3, kid: "k"})
      assert %{"n" => n, "e" => "Aw", "kid" => "k", "alg" => "PS256"} = Signer.public_jwk(key)
      assert byte_size(unb64!(n)) == 384

      refute Map.has_key?(
               Signer.public_jwk(Signer.generate_key("ES256", %{kid: :undefined})),
               "kid"
             )
    end

    test "keys from the openssl fixtures match their JWKs and sign as openssl does" do
      fixtures = :jiffy.decode(File.read!(fixture_path("jwks.json")), [:return_maps])["keys"]
      fixture = fn kid -> Enum.find(fixtures, &(&1["kid"] == kid)) end

      for {pem, kid, tokens} <- [
            {"rsa2048", "rsa-2048", ~w(rs256 rs384 rs512 ps256 ps384 ps512)},
            {"ec256", "ec-p256", ~w(es256)},
            {"ec384", "ec-p384", ~w(es384)},
            {"ec521", "ec-p521", ~w(es512)},
            {"ed25519", "ed25519", ~w(eddsa)}
          ] do
        [entry] = :public_key.pem_decode(File.read!(fixture_path("keys/#{pem}.pem")))
        key = Signer.from_private_key(:public_key.pem_entry_decode(entry), %{kid: kid})
        jwk = Signer.public_jwk(key)
        assert Map.take(jwk, ~w(kty crv n e x y)) == Map.take(fixture.(kid), ~w(kty crv n e x y))

        {:ok, ks} = :jwks_verify.key_set(Signer.jwks([fixture.(kid)]))

        for name <- tokens do
          [h, p, s] = String.split(fixture_token(name), ".")
          %{"alg" => alg} = :jiffy.decode(unb64!(h), [:return_maps])
          ours = Signer.signature(h <> "." <> p, key, %{alg: alg})

          if alg in ~w(RS256 RS384 RS512 EdDSA), do: assert(ours == unb64!(s), name)
          token = h <> "." <> p <> "." <> Base.url_encode64(ours, padding: false)
          opts = %{algs: [alg], now: @now, aud: "api://default"}
          assert {:ok, _} = :jwks_verify.verify(token, ks, opts), name
        end
      end
    end
  end

  describe "caller mistakes raise" do
    test "an unknown algorithm, a key that cannot sign the alg, bad options", %{keys: keys} do
      assert_raise ArgumentError, fn -> Signer.generate_key("HS256") end
      assert_raise ArgumentError, fn -> Signer.generate_key("none") end
      assert_raise ArgumentError, fn -> Signer.sign(@claims, keys["ES256"], %{alg: "RS256"}) end
      assert_raise ArgumentError, fn -> Signer.sign(@claims, keys["EdDSA"], %{alg: "ES256"}) end
      assert_raise ArgumentError, fn -> Signer.sign(@claims, keys["RS256"], %{alg: "EdDSA"}) end
      assert_raise ArgumentError, fn -> Signer.sign(@claims, keys["RS256"], kid: "k") end
      assert_raise ArgumentError, fn -> Signer.generate_key("RS256", %{kid: 1}) end
      assert_raise ArgumentError, fn -> Signer.sign([1], keys["RS256"]) end
    end
  end

  defp public_key_verify("EdDSA", input, sig, pub), do: :public_key.verify(input, :none, sig, pub)

  defp public_key_verify("RS" <> bits, input, sig, pub),
    do: :public_key.verify(input, md(bits), sig, pub)

  defp public_key_verify("PS" <> bits, input, sig, pub),
    do:
      :public_key.verify(
        input,
        md(bits),
        sig,
        pub,
        pss(md(bits), div(String.to_integer(bits), 8))
      )

  # JWS's raw r || s back to the DER :public_key reads.
  defp public_key_verify("ES" <> bits, input, sig, pub) do
    half = div(byte_size(sig), 2)
    <<r::size(half)-unit(8), s::size(half)-unit(8)>> = sig
    der = :public_key.der_encode(:"ECDSA-Sig-Value", {:"ECDSA-Sig-Value", r, s})
    :public_key.verify(input, md(bits), der, pub)
  end

  defp md("256"), do: :sha256
  defp md("384"), do: :sha384
  defp md("512"), do: :sha512

  defp pss(md, salt),
    do: [rsa_padding: :rsa_pkcs1_pss_padding, rsa_pss_saltlen: salt, rsa_mgf1_md: md]
end
