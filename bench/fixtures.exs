# Fixtures for the benchmark: one key and one signed JWT per algorithm, a
# JWKS holding every public key, and each key as SPKI PEM and single JWK.
#
# Keys and tokens come from :jwks_verify_signer (OTP's :public_key), an
# implementation independent of the library under test. Fresh keys and
# tokens every run; `exp` is a day ahead, so the files stay valid for any run
# started today.
#
#     elixir bench/fixtures.exs bench/build/fixtures
#
# Writes, per algorithm A in RS256 RS512 PS256 ES256 EdDSA:
#   A.jwt       the compact token
#   A.pem       its public key (SubjectPublicKeyInfo)
#   A.jwk.json  its public key as one JWK
# and jwks.json (all of them plus a second RS256 key, as during a rotation),
# claims.json (the options the verifiers check: iss, aud).

# Run outside mix, compile the signer from src/ into memory.
unless Code.ensure_loaded?(:jwks_verify_signer) do
  src = String.to_charlist(Path.expand("../src/jwks_verify_signer.erl", __DIR__))
  {:ok, mod, beam} = :compile.file(src, [:binary, :return_errors])
  {:module, _} = :code.load_binary(mod, src, beam)
end

defmodule JwksVerify.Bench.Fixtures do
  alias :jwks_verify_signer, as: Signer

  @iss "https://issuer.example.com/"
  @aud "bench-api"

  # {alg, kid, RSA bits}
  @cases [
    {"RS256", "rs256-2048", 2048},
    {"RS512", "rs512-4096", 4096},
    {"PS256", "ps256-2048", 2048},
    {"ES256", "es256-p256", nil},
    {"EdDSA", "eddsa-ed25519", nil}
  ]

  def iss, do: @iss
  def aud, do: @aud
  def algs, do: Enum.map(@cases, &elem(&1, 0))

  def generate(dir) do
    File.mkdir_p!(dir)
    now = System.system_time(:second)

    keys =
      for {alg, kid, bits} <- @cases do
        key = Signer.generate_key(alg, if(bits, do: %{kid: kid, bits: bits}, else: %{kid: kid}))
        File.write!(Path.join(dir, "#{alg}.jwt"), Signer.sign(claims(now), key))
        File.write!(Path.join(dir, "#{alg}.pem"), public_pem(key))
        File.write!(Path.join(dir, "#{alg}.jwk.json"), :jiffy.encode(Signer.public_jwk(key)))
        key
      end

    # The rotation key is never used to sign: it only makes the kid lookup real.
    next = Signer.generate_key("RS256", %{kid: "rs256-next"})
    File.write!(Path.join(dir, "jwks.json"), Signer.jwks([next | keys]))
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

  defp public_pem(key) do
    entry = :public_key.pem_entry_encode(:SubjectPublicKeyInfo, Signer.public_key(key))
    :public_key.pem_encode([entry])
  end
end

case System.argv() do
  [dir] -> JwksVerify.Bench.Fixtures.generate(dir)
  _ -> :ok
end
