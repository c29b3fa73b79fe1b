defmodule JwksVerify.PemTest do
  # Guards key_set_from_pem/1: PEM public keys, PKCS#1 keys and certificates
  # made by the openssl CLI go through the same key checks as a JWKS, and a
  # private key, a short RSA key or garbage is refused with its reason.
  use ExUnit.Case, async: true

  @fixtures Path.expand("../fixtures", __DIR__)
  @now 1_700_000_100
  # The audience of the openssl fixture tokens.
  @aud "api://default"

  defp key(name), do: File.read!(Path.join([@fixtures, "keys", name]))
  defp token(name), do: File.read!(Path.join([@fixtures, "tokens", name])) |> String.trim()

  defp openssl!(args) do
    {out, 0} = System.cmd("openssl", args, stderr_to_stdout: true)
    out
  end

  setup_all do
    dir = Path.join(System.tmp_dir!(), "jwks_verify_pem_#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)
    rsa = Path.join([@fixtures, "keys", "rsa2048.pem"])
    ec = Path.join([@fixtures, "keys", "ec256.pem"])
    cert = Path.join(dir, "rsa.crt")
    ec_cert = Path.join(dir, "ec.crt")

    for {k, c} <- [{rsa, cert}, {ec, ec_cert}] do
      openssl!(~w(req -new -x509 -key #{k} -out #{c} -days 30 -subj /CN=issuer.test))
    end

    pkcs1 = openssl!(~w(rsa -in #{rsa} -RSAPublicKey_out))
    %{cert: File.read!(cert), ec_cert: File.read!(ec_cert), pkcs1: pkcs1}
  end

  describe "key_set_from_pem/1 accepts" do
    test "an RSA SubjectPublicKeyInfo" do
      {:ok, ks} =
        JwksVerify.key_set_from_pem([
          %{pem: key("rsa2048.pub.pem"), alg: "RS256", kid: "rsa-2048"}
        ])

      assert {:ok, %{"jti" => "rs256"}} =
               JwksVerify.verify(token("rs256.jwt"), ks, now: @now, aud: @aud)
    end

    test "an EC P-256 SubjectPublicKeyInfo, as a keyword list" do
      {:ok, ks} =
        JwksVerify.key_set_from_pem([[pem: key("ec256.pub.pem"), alg: "ES256", kid: "ec-p256"]])

      assert {:ok, _} =
               JwksVerify.verify(token("es256.jwt"), ks, now: @now, aud: @aud, algs: ["ES256"])
    end

    test "P-384, P-521 and Ed25519 keys" do
      {:ok, ks} =
        JwksVerify.key_set_from_pem([
          %{pem: key("ec384.pub.pem"), alg: "ES384", kid: "ec-p384"},
          %{pem: key("ec521.pub.pem"), alg: "ES512", kid: "ec-p521"},
          %{pem: key("ed25519.pub.pem"), alg: "EdDSA", kid: "ed25519"}
        ])

      for {alg, file} <- [{"ES384", "es384.jwt"}, {"ES512", "es512.jwt"}, {"EdDSA", "eddsa.jwt"}] do
        assert {:ok, _} = JwksVerify.verify(token(file), ks, now: @now, aud: @aud, algs: [alg])
      end
    end

    test "an X.509 certificate (its subject key)", ctx do
      {:ok, ks} = JwksVerify.key_set_from_pem([%{pem: ctx.cert, alg: "RS256", kid: "rsa-2048"}])
      assert {:ok, _} = JwksVerify.verify(token("rs256.jwt"), ks, now: @now, aud: @aud)

      {:ok, ks} = JwksVerify.key_set_from_pem([%{pem: ctx.ec_cert, alg: "ES256", kid: "ec-p256"}])

      assert {:ok, _} =
               JwksVerify.verify(token("es256.jwt"), ks, now: @now, aud: @aud, algs: ["ES256"])
    end

    test "a PKCS#1 RSA PUBLIC KEY", ctx do
      assert ctx.pkcs1 =~ "BEGIN RSA PUBLIC KEY"
      {:ok, ks} = JwksVerify.key_set_from_pem([%{pem: ctx.pkcs1, alg: "RS256", kid: "rsa-2048"}])
      assert {:ok, _} = JwksVerify.verify(token("rs256.jwt"), ks, now: @now, aud: @aud)
    end

    test "a key without kid is found by its alg" do
      {:ok, ks} = JwksVerify.key_set_from_pem([%{pem: key("rsa2048.pub.pem"), alg: "RS256"}])
      assert %{keys: [%{kid: nil, alg: "RS256", status: :ok}]} = JwksVerify.key_set_info(ks)
    end

    test "the key is bound to the alg it was given" do
      {:ok, ks} =
        JwksVerify.key_set_from_pem([
          %{pem: key("rsa2048.pub.pem"), alg: "PS256", kid: "rsa-2048"}
        ])

      assert JwksVerify.verify(token("rs256.jwt"), ks,
               now: @now,
               aud: @aud,
               algs: ["RS256", "PS256"]
             ) ==
               {:error, :key_alg_mismatch}
    end
  end

  describe "key_set_from_pem/1 refuses" do
    test "a 1024-bit RSA key, kept in the set with its reason" do
      {:ok, ks} =
        JwksVerify.key_set_from_pem([
          %{pem: key("rsa1024.pub.pem"), alg: "RS256", kid: "rsa-1024"}
        ])

      assert %{usable: 0, keys: [%{status: :rsa_key_too_small}]} = JwksVerify.key_set_info(ks)

      assert JwksVerify.verify(token("rs256_1024.jwt"), ks, now: @now, aud: @aud) ==
               {:error, :rsa_key_too_small}
    end

    test "private keys, in every PEM form" do
      for file <- ~w(rsa2048.pem ec256.pem ed25519.pem) do
        assert JwksVerify.key_set_from_pem([%{pem: key(file), alg: "RS256"}]) ==
                 {:error, :private_key}
      end

      pkcs1 = openssl!(~w(rsa -in #{Path.join([@fixtures, "keys", "rsa2048.pem"])} -traditional))
      assert pkcs1 =~ "BEGIN RSA PRIVATE KEY"
      assert JwksVerify.key_set_from_pem([%{pem: pkcs1, alg: "RS256"}]) == {:error, :private_key}
    end

    test "garbage and empty PEM" do
      for pem <- ["garbage", "", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"] do
        assert JwksVerify.key_set_from_pem([%{pem: pem, alg: "RS256"}]) == {:error, :invalid_key}
      end
    end

    test "a key whose type does not fit its alg" do
      assert JwksVerify.key_set_from_pem([%{pem: key("ec256.pub.pem"), alg: "RS256"}]) ==
               {:error, :key_type_mismatch}

      assert JwksVerify.key_set_from_pem([%{pem: key("ec384.pub.pem"), alg: "ES256"}]) ==
               {:error, :key_type_mismatch}
    end

    test "caller mistakes raise ArgumentError" do
      pem = key("rsa2048.pub.pem")

      assert_raise ArgumentError, ~r/option :alg/, fn ->
        JwksVerify.key_set_from_pem([%{pem: pem, alg: "HS256"}])
      end

      assert_raise ArgumentError, ~r/unknown option :algo/, fn ->
        JwksVerify.key_set_from_pem([%{pem: pem, algo: "RS256"}])
      end

      assert_raise ArgumentError, ~r/option :kid/, fn ->
        JwksVerify.key_set_from_pem([%{pem: pem, alg: "RS256", kid: 1}])
      end

      assert_raise ArgumentError, fn -> JwksVerify.key_set_from_pem(pem) end
    end
  end
end
