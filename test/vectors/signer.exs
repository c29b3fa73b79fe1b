# An independent JOSE signer for the hostile corpus, the fuzz seeds and the
# property tests: keys, JWKs and compact JWS made with OTP's :crypto and
# :public_key only, never with jwks_verify, so a case cannot pass because the
# signer and the verifier share a bug.
#
# Loaded with Code.require_file/1 by test/vectors/gen.exs,
# fuzz/gen_seeds.exs and test/jwks_verify_property_test.exs.
defmodule JwksVerify.Vectors.Signer do
  @moduledoc false

  # RFC 7518 §3.4: ECDSA r and s are each padded to the curve's byte length.
  @ec %{
    "P-256" => {:secp256r1, :sha256, 32},
    "P-384" => {:secp384r1, :sha384, 48},
    "P-521" => {:secp521r1, :sha512, 66}
  }
  @algs %{
    "RS256" => {:rsa, :sha256},
    "RS384" => {:rsa, :sha384},
    "RS512" => {:rsa, :sha512},
    "PS256" => {:pss, :sha256},
    "PS384" => {:pss, :sha384},
    "PS512" => {:pss, :sha512},
    "ES256" => {:ec, "P-256"},
    "ES384" => {:ec, "P-384"},
    "ES512" => {:ec, "P-521"},
    "EdDSA" => {:okp, "Ed25519"}
  }

  @doc "The ten algorithms jwks_verify implements."
  def algs,
    do: ~w(RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA)

  def b64(bin), do: Base.url_encode64(bin, padding: false)
  def unb64(text), do: Base.url_decode64!(text, padding: false)

  ## Keys: %{kty: :rsa | :ec | :okp, crv: ..., pub: ..., priv: ...}

  def rsa_key(bits \\ 2048, e \\ 65_537) do
    {[eb, nb], priv} = :crypto.generate_key(:rsa, {bits, e})
    %{kty: :rsa, crv: nil, e: eb, n: nb, priv: priv}
  end

  @doc "An RSA key from its parts (integers); priv is [E, N, D]."
  def rsa_from(n, e, d) do
    %{
      kty: :rsa,
      crv: nil,
      e: :binary.encode_unsigned(e),
      n: :binary.encode_unsigned(n),
      priv: [e, n, d]
    }
  end

  def ec_key(crv) do
    {curve, _, _} = Map.fetch!(@ec, crv)
    {pub, priv} = :crypto.generate_key(:ecdh, curve)
    %{kty: :ec, crv: crv, pub: pub, priv: priv}
  end

  def ed_key do
    {pub, priv} = :crypto.generate_key(:eddsa, :ed25519)
    %{kty: :okp, crv: "Ed25519", pub: pub, priv: priv}
  end

  @doc "The key a given algorithm needs."
  def key_for(alg) do
    case Map.fetch!(@algs, alg) do
      {:rsa, _} -> rsa_key()
      {:pss, _} -> rsa_key()
      {:ec, crv} -> ec_key(crv)
      {:okp, _} -> ed_key()
    end
  end

  @doc "The public JWK of a key as a map with string keys, extra members merged in."
  def jwk(key, extra \\ %{})

  def jwk(%{kty: :rsa, n: n, e: e}, extra),
    do: Map.merge(%{"kty" => "RSA", "n" => b64(n), "e" => b64(e)}, extra)

  def jwk(%{kty: :ec, crv: crv, pub: <<4, xy::binary>>}, extra) do
    half = div(byte_size(xy), 2)
    <<x::binary-size(half), y::binary>> = xy

    Map.merge(%{"kty" => "EC", "crv" => crv, "x" => b64(x), "y" => b64(y)}, extra)
  end

  def jwk(%{kty: :okp, crv: crv, pub: pub}, extra),
    do: Map.merge(%{"kty" => "OKP", "crv" => crv, "x" => b64(pub)}, extra)

  @doc "A JWKS document (binary) from JWK maps."
  def jwks(jwks), do: json(%{"keys" => jwks})

  # jiffy answers iodata for larger documents.
  def json(term), do: IO.iodata_to_binary(:jiffy.encode(term))

  ## Signatures

  @doc "The JWS signature of `alg` over `input` with `key` (raw r||s for ECDSA)."
  def sign(alg, key, input, opts \\ [])

  def sign(alg, key, input, opts) do
    case Map.fetch!(@algs, alg) do
      {:rsa, md} ->
        :crypto.sign(:rsa, md, input, key.priv)

      {:pss, md} ->
        salt = Keyword.get(opts, :salt, hash_len(md))

        :crypto.sign(:rsa, md, input, key.priv, [
          {:rsa_padding, :rsa_pkcs1_pss_padding},
          {:rsa_pss_saltlen, salt},
          {:rsa_mgf1_md, md}
        ])

      {:ec, crv} ->
        {curve, md, size} = Map.fetch!(@ec, key.crv || crv)
        md = Keyword.get(opts, :md, md)
        der = :crypto.sign(:ecdsa, md, input, [key.priv, curve])
        {r, s} = ecdsa_rs(der)
        raw_rs(r, s, size)

      {:okp, _} ->
        :crypto.sign(:eddsa, :none, input, [key.priv, :ed25519])
    end
  end

  @doc "A DER ECDSA-Sig-Value as {r, s}."
  def ecdsa_rs(der) do
    {:"ECDSA-Sig-Value", r, s} = :public_key.der_decode(:"ECDSA-Sig-Value", der)
    {r, s}
  end

  def raw_rs(r, s, size), do: <<r::unsigned-big-size(size * 8), s::unsigned-big-size(size * 8)>>

  @doc "The DER form of an ECDSA signature (the classic JOSE mistake)."
  def ecdsa_der(alg, key, input) do
    {curve, md, _} = Map.fetch!(@ec, key.crv)
    _ = alg
    :crypto.sign(:ecdsa, md, input, [key.priv, curve])
  end

  def hash_len(:sha256), do: 32
  def hash_len(:sha384), do: 48
  def hash_len(:sha512), do: 64

  @doc "The byte length of r (and s) for an ES curve."
  def ec_size(crv), do: elem(Map.fetch!(@ec, crv), 2)

  ## Tokens

  @doc """
  A compact JWS: header and payload are JSON given as maps (encoded with
  jiffy) or as raw binaries (used as they are, for hand-made JSON).
  """
  def token(alg, key, header, payload, opts \\ []) do
    h = b64(to_json(header))
    p = b64(to_json(payload))
    input = h <> "." <> p
    input <> "." <> b64(sign(alg, key, input, opts))
  end

  @doc "Signs an already encoded `header.payload` signing input."
  def sign_input(alg, key, input, opts \\ []),
    do: input <> "." <> b64(sign(alg, key, input, opts))

  defp to_json(bin) when is_binary(bin), do: bin
  defp to_json(map) when is_map(map), do: json(map)
end
