# Fixtures for the benchmark: one key and one signed JWT per algorithm, a
# JWKS holding every public key, and each key as SPKI PEM and single JWK.
#
# Tokens are signed here by OTP's :public_key / :crypto, an implementation
# independent of the library under test. Fresh keys and tokens every run;
# `exp` is a day ahead, so the files stay valid for any run started today.
#
#     elixir bench/fixtures.exs bench/build/fixtures
#
# Writes, per algorithm A in RS256 RS512 PS256 ES256 EdDSA:
#   A.jwt       the compact token
#   A.pem       its public key (SubjectPublicKeyInfo)
#   A.jwk.json  its public key as one JWK
# and jwks.json (all of them plus a second RS256 key, as during a rotation),
# claims.json (the options the verifiers check: iss, aud).
defmodule JwksVerify.Bench.Fixtures do
  @iss "https://issuer.example.com/"
  @aud "bench-api"
  @ed25519 {1, 3, 101, 112}

  # {alg, kid, key spec}
  @cases [
    {"RS256", "rs256-2048", {:rsa, 2048}},
    {"RS512", "rs512-4096", {:rsa, 4096}},
    {"PS256", "ps256-2048", {:rsa, 2048}},
    {"ES256", "es256-p256", :p256},
    {"EdDSA", "eddsa-ed25519", :ed25519}
  ]

  def iss, do: @iss
  def aud, do: @aud
  def algs, do: Enum.map(@cases, &elem(&1, 0))

  def generate(dir) do
    File.mkdir_p!(dir)
    now = System.system_time(:second)

    jwks =
      for {alg, kid, spec} <- @cases do
        priv = generate_key(spec)
        jwk = Map.merge(%{"kid" => kid, "alg" => alg, "use" => "sig"}, public_jwk(priv))
        token = sign(alg, kid, priv, claims(now))
        File.write!(Path.join(dir, "#{alg}.jwt"), token)
        File.write!(Path.join(dir, "#{alg}.pem"), public_pem(priv))
        File.write!(Path.join(dir, "#{alg}.jwk.json"), :jiffy.encode(jwk))
        jwk
      end

    # The rotation key is never used to sign: it only makes the kid lookup real.
    next =
      Map.merge(
        %{"kid" => "rs256-next", "alg" => "RS256", "use" => "sig"},
        public_jwk(generate_key({:rsa, 2048}))
      )

    File.write!(Path.join(dir, "jwks.json"), :jiffy.encode(%{"keys" => [next | jwks]}))
    File.write!(Path.join(dir, "claims.json"), :jiffy.encode(%{"iss" => @iss, "aud" => @aud}))
    :ok
  end

  defp claims(now) do
    %{
      "iss" => @iss,
      "sub" => "auth0|5f7c8ec7c33c6c004bbafe82",
      "aud" => @aud,
      "iat" => now - 60,
      "nbf" => now - 60,
      "exp" => now + 86_400,
      "jti" => "b6f3c2de-8a4e-4c1b-9d7e-2f1a0c9e7d55",
      "scope" => "openid profile email read:orders",
      "email" => "jane.doe@example.com",
      "email_verified" => true
    }
  end

  defp generate_key({:rsa, bits}), do: :public_key.generate_key({:rsa, bits, 65_537})
  defp generate_key(:p256), do: :public_key.generate_key({:namedCurve, :secp256r1})

  defp generate_key(:ed25519) do
    {pub, priv} = :crypto.generate_key(:eddsa, :ed25519)
    {:ed25519, pub, priv}
  end

  defp sign(alg, kid, priv, claims) do
    header = ~s({"alg":"#{alg}","typ":"JWT","kid":"#{kid}"})
    input = b64(header) <> "." <> b64(:jiffy.encode(claims))
    input <> "." <> b64(signature(alg, input, priv))
  end

  defp signature("RS256", input, key), do: :public_key.sign(input, :sha256, key)
  defp signature("RS512", input, key), do: :public_key.sign(input, :sha512, key)

  defp signature("PS256", input, key) do
    opts = [rsa_padding: :rsa_pkcs1_pss_padding, rsa_pss_saltlen: 32, rsa_mgf1_md: :sha256]
    :public_key.sign(input, :sha256, key, opts)
  end

  # JWS wants ECDSA as fixed-width r || s (RFC 7518 §3.4), not DER.
  defp signature("ES256", input, key) do
    {:"ECDSA-Sig-Value", r, s} =
      :public_key.der_decode(:"ECDSA-Sig-Value", :public_key.sign(input, :sha256, key))

    <<r::unsigned-big-size(256), s::unsigned-big-size(256)>>
  end

  defp signature("EdDSA", input, {:ed25519, _pub, priv}),
    do: :crypto.sign(:eddsa, :none, input, [priv, :ed25519])

  defp public_jwk({:RSAPrivateKey, _, n, e, _, _, _, _, _, _, _}),
    do: %{
      "kty" => "RSA",
      "n" => b64(:binary.encode_unsigned(n)),
      "e" => b64(:binary.encode_unsigned(e))
    }

  defp public_jwk({:ECPrivateKey, _, _, _, <<4, x::binary-size(32), y::binary-size(32)>>, _}),
    do: %{"kty" => "EC", "crv" => "P-256", "x" => b64(x), "y" => b64(y)}

  defp public_jwk({:ed25519, pub, _priv}),
    do: %{"kty" => "OKP", "crv" => "Ed25519", "x" => b64(pub)}

  defp public_pem(key),
    do:
      :public_key.pem_encode([
        :public_key.pem_entry_encode(:SubjectPublicKeyInfo, public_key(key))
      ])

  def public_key({:RSAPrivateKey, _, n, e, _, _, _, _, _, _, _}), do: {:RSAPublicKey, n, e}
  def public_key({:ECPrivateKey, _, _, params, point, _}), do: {{:ECPoint, point}, params}
  def public_key({:ed25519, pub, _}), do: {{:ECPoint, pub}, {:namedCurve, @ed25519}}

  defp b64(bin), do: Base.url_encode64(bin, padding: false)
end

case System.argv() do
  [dir] -> JwksVerify.Bench.Fixtures.generate(dir)
  _ -> :ok
end
