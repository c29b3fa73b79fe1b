defmodule JwksVerify.TokenHelpers do
  @moduledoc """
  Keys, JWKs and compact JWS tokens for the tests, in the shapes the tests
  use, made by `:jwks_verify_signer` (OTP's `:public_key`/`:crypto`) or by
  erlang-jose for `jose_token/4`: never by jwks_verify itself, so a test
  cannot pass because signer and verifier share a bug.

  A key is a `:jwks_verify_signer` key without a kid, usable with any
  algorithm of its type (`token/4` names the algorithm); `public_jwk/2` gives
  its bare JWK, to which the test adds what it needs.
  """

  alias :jwks_verify_signer, as: Signer

  @fixtures Path.expand("../fixtures", __DIR__)
  @es_algs %{"P-256" => "ES256", "P-384" => "ES384", "P-521" => "ES512"}

  @type key :: :jwks_verify_signer.key()

  ## Fixtures made by test/fixtures/gen.sh

  @doc "The absolute path of a file under test/fixtures."
  def fixture_path(rel), do: Path.join(@fixtures, rel)

  @doc "test/fixtures/jwks.json, as read."
  def fixture_jwks, do: File.read!(fixture_path("jwks.json"))

  @doc "The token in test/fixtures/tokens/NAME.jwt."
  def fixture_token(name), do: String.trim(File.read!(fixture_path("tokens/#{name}.jwt")))

  @doc "A private key from test/fixtures/keys/NAME.pem, as a key."
  def fixture_key(name), do: from_pem(File.read!(fixture_path("keys/#{name}.pem")))

  @doc "A key from a PEM private key (RSA, EC or Ed25519)."
  def from_pem(pem) do
    [entry] = :public_key.pem_decode(pem)
    Signer.from_private_key(:public_key.pem_entry_decode(entry), %{kid: :undefined})
  end

  ## Fresh keys

  @doc "A new RSA key of `bits` bits (public exponent 65537 unless given)."
  def rsa_key(bits \\ 2048, e \\ 65_537),
    do: Signer.generate_key("RS256", %{bits: bits, e: e, kid: :undefined})

  @doc ~S'A new EC key on "P-256", "P-384" or "P-521".'
  def ec_key(crv), do: Signer.generate_key(Map.fetch!(@es_algs, crv), %{kid: :undefined})

  @doc "A new Ed25519 key."
  def ed25519_key, do: Signer.generate_key("EdDSA", %{kid: :undefined})

  ## JWKs

  @doc """
  The public JWK of a key (`kty` and the key's members only), merged with
  `extra` (`%{"kid" => ..., "alg" => ...}`); an `extra` value of `nil` removes
  the member.
  """
  def public_jwk(key, extra \\ %{}),
    do: key |> Signer.public_jwk() |> Map.drop(["kid", "alg", "use"]) |> merge(extra)

  @doc ~S'A JWKS document `{"keys": jwks}` as JSON.'
  def jwks_json(jwks) when is_list(jwks), do: Signer.jwks(jwks)

  @doc "The `:public_key` public key of a key, for `:public_key.verify/4,5`."
  def public_key_record(key), do: Signer.public_key(key)

  ## Tokens

  @doc """
  A compact JWS signed by `key` with `alg`. `claims` is a map or raw payload
  bytes. `header` is merged over `%{"alg" => alg, "typ" => "JWT"}` (a `nil`
  value removes the member), or is raw header bytes.
  """
  def token(key, alg, claims, header \\ %{})

  def token(key, alg, claims, header) when is_map(header) do
    header = Map.new(header, fn {k, v} -> {k, if(v == nil, do: :undefined, else: v)} end)
    Signer.sign(claims, key, %{alg: alg, kid: :undefined, header: header})
  end

  def token(key, alg, claims, header) when is_binary(header) do
    payload = if is_map(claims), do: json(claims), else: claims
    Signer.sign_compact(header, payload, key, %{alg: alg})
  end

  @doc "Signs `h.p` (already base64url) and returns the compact token."
  def sign_segments(key, alg, h, p) do
    input = h <> "." <> p
    input <> "." <> b64(sign(key, alg, input))
  end

  @doc "The JWS signature of `input` (raw bytes, ES as r || s)."
  def sign(key, alg, input), do: Signer.signature(input, key, %{alg: alg})

  @doc """
  An HS256 token keyed with `secret` (the key-confusion attack uses the RSA
  public key): made here, since HMAC is no algorithm jwks_verify accepts.
  """
  def hs256_token(secret, claims, header \\ %{}) do
    h = b64(json(merge(%{"alg" => "HS256", "typ" => "JWT"}, header)))
    p = b64(json(claims))
    input = h <> "." <> p
    input <> "." <> b64(:crypto.mac(:hmac, :sha256, secret, input))
  end

  @doc "A token built from raw segments (bytes, base64url-encoded here) and a raw signature."
  def unsigned_token(header, payload, signature \\ "") do
    b64(header) <> "." <> b64(payload) <> "." <> b64(signature)
  end

  ## erlang-jose

  @doc "A fresh erlang-jose key for `alg`."
  def jose_key("RS" <> _), do: :jose_jwk.generate_key({:rsa, 2048})
  def jose_key("PS" <> _), do: :jose_jwk.generate_key({:rsa, 2048})
  def jose_key("ES256"), do: :jose_jwk.generate_key({:ec, "P-256"})
  def jose_key("ES384"), do: :jose_jwk.generate_key({:ec, "P-384"})
  def jose_key("ES512"), do: :jose_jwk.generate_key({:ec, "P-521"})
  def jose_key("EdDSA"), do: :jose_jwk.generate_key({:okp, :Ed25519})

  @doc "The public JWK map of an erlang-jose key, merged with `extra`."
  def jose_public_jwk(jwk, extra \\ %{}) do
    use_jiffy()
    {_, map} = :jose_jwk.to_public_map(jwk)
    merge(map, extra)
  end

  @doc "A compact JWT signed by erlang-jose (`jose_jwt:sign/3`)."
  def jose_token(jwk, alg, claims, header \\ %{}) do
    use_jiffy()
    signed = :jose_jwt.sign(jwk, merge(%{"alg" => alg}, header), claims)
    {_, compact} = :jose_jws.compact(signed)
    compact
  end

  defp use_jiffy, do: :jose.json_module(:jose_json_jiffy)

  ## Bytes

  @doc "JSON text of a term, as one binary (jiffy may return iodata)."
  def json(term), do: IO.iodata_to_binary(:jiffy.encode(term))

  @doc "base64url without padding (RFC 7515 §2)."
  def b64(bin), do: Base.url_encode64(bin, padding: false)

  @doc "Decodes base64url without padding."
  def unb64!(text), do: Base.url_decode64!(text, padding: false)

  @doc "The three segments of a compact token."
  def segments(token) do
    [h, p, s] = String.split(token, ".")
    {h, p, s}
  end

  @doc "`token` with one bit of its signature flipped (a byte where no range check can trip)."
  def flip_signature_bit(token) do
    {h, p, s} = segments(token)
    sig = unb64!(s)
    # Byte 0 for EdDSA (R, a point), the last byte otherwise (low bits of RSA's
    # integer or of ECDSA's s), so the result stays in range and is just wrong.
    i = if alg_of(token) == "EdDSA", do: 0, else: byte_size(sig) - 1
    <<pre::binary-size(i), b, post::binary>> = sig
    h <> "." <> p <> "." <> b64(<<pre::binary, Bitwise.bxor(b, 1), post::binary>>)
  end

  @doc "The header of a compact token, decoded."
  def header_of(token) do
    {h, _, _} = segments(token)
    :jiffy.decode(unb64!(h), [:return_maps])
  end

  defp alg_of(token), do: header_of(token)["alg"]

  defp merge(map, extra) do
    Enum.reduce(extra, map, fn
      {k, nil}, acc -> Map.delete(acc, k)
      {k, v}, acc -> Map.put(acc, k, v)
    end)
  end
end
