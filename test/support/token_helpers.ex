defmodule JwksVerify.TokenHelpers do
  @moduledoc """
  Keys, JWKs and compact JWS tokens for the tests, made with OTP's
  `:public_key`/`:crypto` (and erlang-jose for `jose_token/4`): never with
  jwks_verify itself, so a test cannot pass because signer and verifier share
  a bug.

  A key is a map `%{kty: :rsa | :ec | :okp, crv: crv, private: record}`;
  `public_jwk/2` turns it into the JWK map a JWKS holds.
  """

  require Record

  Record.defrecordp(
    :rsa_private,
    :RSAPrivateKey,
    Record.extract(:RSAPrivateKey, from_lib: "public_key/include/public_key.hrl")
  )

  Record.defrecordp(
    :ec_private,
    :ECPrivateKey,
    Record.extract(:ECPrivateKey, from_lib: "public_key/include/public_key.hrl")
  )

  @fixtures Path.expand("../fixtures", __DIR__)

  # RFC 7518 §3.4: r and s are each padded to the curve's byte length.
  @ec_bytes %{"P-256" => 32, "P-384" => 48, "P-521" => 66}
  @curve_oids %{
    {1, 2, 840, 10045, 3, 1, 7} => "P-256",
    {1, 3, 132, 0, 34} => "P-384",
    {1, 3, 132, 0, 35} => "P-521",
    {1, 3, 101, 112} => "Ed25519"
  }
  @curve_names %{"P-256" => :secp256r1, "P-384" => :secp384r1, "P-521" => :secp521r1}

  @type key :: %{kty: :rsa | :ec | :okp, crv: binary() | nil, private: tuple()}

  ## Fixtures made by test/fixtures/gen.sh

  @doc "The absolute path of a file under test/fixtures."
  def fixture_path(rel), do: Path.join(@fixtures, rel)

  @doc "test/fixtures/jwks.json, as read."
  def fixture_jwks, do: File.read!(fixture_path("jwks.json"))

  @doc "The token in test/fixtures/tokens/NAME.jwt."
  def fixture_token(name), do: String.trim(File.read!(fixture_path("tokens/#{name}.jwt")))

  @doc "A private key from test/fixtures/keys/NAME.pem, as a key map."
  def fixture_key(name), do: from_pem(File.read!(fixture_path("keys/#{name}.pem")))

  @doc "A key map from a PEM private key (RSA, EC or Ed25519)."
  def from_pem(pem) do
    [entry] = :public_key.pem_decode(pem)

    case :public_key.pem_entry_decode(entry) do
      rsa_private() = k ->
        %{kty: :rsa, crv: nil, private: k}

      ec_private(parameters: {:namedCurve, oid}) = k ->
        case Map.fetch!(@curve_oids, oid) do
          "Ed25519" -> %{kty: :okp, crv: "Ed25519", private: k}
          crv -> %{kty: :ec, crv: crv, private: k}
        end
    end
  end

  ## Fresh keys

  @doc "A new RSA key of `bits` bits (public exponent 65537 unless given)."
  def rsa_key(bits \\ 2048, e \\ 65_537) do
    %{kty: :rsa, crv: nil, private: :public_key.generate_key({:rsa, bits, e})}
  end

  @doc ~S'A new EC key on "P-256", "P-384" or "P-521".'
  def ec_key(crv) do
    k = :public_key.generate_key({:namedCurve, Map.fetch!(@curve_names, crv)})
    %{kty: :ec, crv: crv, private: k}
  end

  @doc "A new Ed25519 key."
  def ed25519_key do
    %{kty: :okp, crv: "Ed25519", private: :public_key.generate_key({:namedCurve, :ed25519})}
  end

  ## JWKs

  @doc """
  The public JWK of a key, merged with `extra` (`%{"kid" => ..., "alg" => ...}`);
  an `extra` value of `nil` removes the member.
  """
  def public_jwk(key, extra \\ %{})

  def public_jwk(%{kty: :rsa, private: rsa_private(modulus: n, publicExponent: e)}, extra) do
    merge(%{"kty" => "RSA", "n" => b64_uint(n), "e" => b64_uint(e)}, extra)
  end

  def public_jwk(%{kty: :ec, crv: crv, private: ec_private(publicKey: point)}, extra) do
    size = Map.fetch!(@ec_bytes, crv)
    <<4, x::binary-size(size), y::binary-size(size)>> = point
    merge(%{"kty" => "EC", "crv" => crv, "x" => b64(x), "y" => b64(y)}, extra)
  end

  def public_jwk(%{kty: :okp} = key, extra) do
    merge(%{"kty" => "OKP", "crv" => "Ed25519", "x" => b64(ed25519_public(key))}, extra)
  end

  @doc ~S'A JWKS document `{"keys": jwks}` as JSON.'
  def jwks_json(jwks) when is_list(jwks), do: json(%{"keys" => jwks})

  @doc "The `:public_key` public key record of a key map, for `:public_key.verify/4,5`."
  def public_key_record(%{kty: :rsa, private: rsa_private(modulus: n, publicExponent: e)}),
    do: {:RSAPublicKey, n, e}

  def public_key_record(%{kty: :ec, private: ec_private(parameters: params, publicKey: point)}),
    do: {{:ECPoint, point}, params}

  def public_key_record(%{kty: :okp, private: ec_private(parameters: params)} = key),
    do: {{:ECPoint, ed25519_public(key)}, params}

  ## Tokens

  @doc """
  A compact JWS signed by `key` with `alg`. `claims` is a map (encoded with
  jiffy) or raw payload bytes. `header` is merged over `%{"alg" => alg, "typ" => "JWT"}`
  (a `nil` value removes the member), or is raw header bytes.
  """
  def token(key, alg, claims, header \\ %{})

  def token(key, alg, claims, header) when is_map(header) do
    header = merge(%{"alg" => alg, "typ" => "JWT"}, header)
    token(key, alg, claims, json(header))
  end

  def token(key, alg, claims, header) when is_binary(header) do
    payload = if is_map(claims), do: json(claims), else: claims
    sign_segments(key, alg, b64(header), b64(payload))
  end

  @doc "Signs `h.p` (already base64url) and returns the compact token."
  def sign_segments(key, alg, h, p) do
    input = h <> "." <> p
    input <> "." <> b64(sign(key, alg, input))
  end

  @doc "The JWS signature of `input` (raw bytes, ES as r || s)."
  def sign(%{kty: :rsa, private: k}, "RS" <> bits, input) do
    :public_key.sign(input, hash(bits), k)
  end

  def sign(%{kty: :rsa, private: k}, "PS" <> bits, input) do
    # RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash.
    opts = [rsa_padding: :rsa_pkcs1_pss_padding, rsa_pss_saltlen: hash_bytes(bits)]
    :public_key.sign(input, hash(bits), k, opts)
  end

  def sign(%{kty: :ec, crv: crv, private: k}, "ES" <> bits, input) do
    der = :public_key.sign(input, hash(bits), k)
    {:"ECDSA-Sig-Value", r, s} = :public_key.der_decode(:"ECDSA-Sig-Value", der)
    size = Map.fetch!(@ec_bytes, crv) * 8
    <<r::big-size(size), s::big-size(size)>>
  end

  def sign(%{kty: :okp, private: k}, "EdDSA", input) do
    :public_key.sign(input, :none, k)
  end

  @doc "An HS256 token keyed with `secret` (the key-confusion attack uses the RSA public key)."
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

  defp ed25519_public(%{private: ec_private(publicKey: pub)}) when is_binary(pub), do: pub

  defp ed25519_public(%{private: ec_private(privateKey: priv)}) do
    {pub, _} = :crypto.generate_key(:eddsa, :ed25519, priv)
    pub
  end

  defp hash("256"), do: :sha256
  defp hash("384"), do: :sha384
  defp hash("512"), do: :sha512

  defp hash_bytes(bits), do: div(String.to_integer(bits), 8)

  defp b64_uint(i), do: b64(:binary.encode_unsigned(i))

  defp merge(map, extra) do
    Enum.reduce(extra, map, fn
      {k, nil}, acc -> Map.delete(acc, k)
      {k, v}, acc -> Map.put(acc, k, v)
    end)
  end
end
