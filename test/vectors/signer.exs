# The hostile generators' view of :jwks_verify_signer (test/vectors/gen.exs,
# fuzz/gen_seeds.exs): keys carry their public parts as fields (n, e, pub), so
# a script can break a JWK one member at a time; JSON documents come from
# jiffy; every key and signature comes from :jwks_verify_signer (OTP's
# :public_key), never from jwks_verify.
#
# Run outside mix (`elixir test/vectors/gen.exs`), it compiles the signer
# from src/ into memory first.
unless Code.ensure_loaded?(:jwks_verify_signer) do
  src = String.to_charlist(Path.expand("../../src/jwks_verify_signer.erl", __DIR__))
  {:ok, mod, beam} = :compile.file(src, [:binary, :return_errors])
  {:module, _} = :code.load_binary(mod, src, beam)
end

defmodule JwksVerify.Vectors.Signer do
  @moduledoc false

  require Record

  Record.defrecordp(
    :rsa_private,
    :RSAPrivateKey,
    Record.extract(:RSAPrivateKey, from_lib: "public_key/include/public_key.hrl")
  )

  @es_algs %{"P-256" => "ES256", "P-384" => "ES384", "P-521" => "ES512"}

  @doc "The ten algorithms jwks_verify implements."
  def algs, do: ~w(RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA)

  def b64(bin), do: Base.url_encode64(bin, padding: false)
  def unb64(text), do: Base.url_decode64!(text, padding: false)

  ## Keys: %{kty: :rsa | :ec | :okp, crv: ..., n: ..., e: ... | pub: ..., key: signer key}

  def rsa_key(bits \\ 2048, e \\ 65_537),
    do: wrap(:jwks_verify_signer.generate_key("RS256", %{bits: bits, e: e, kid: :undefined}))

  @doc "An RSA key from its parts (integers), without the CRT values."
  def rsa_from(n, e, d) do
    private =
      rsa_private(version: :"two-prime", modulus: n, publicExponent: e, privateExponent: d)

    wrap(:jwks_verify_signer.from_private_key(private, %{kid: :undefined}))
  end

  def ec_key(crv),
    do: wrap(:jwks_verify_signer.generate_key(Map.fetch!(@es_algs, crv), %{kid: :undefined}))

  def ed_key, do: wrap(:jwks_verify_signer.generate_key("EdDSA", %{kid: :undefined}))

  defp wrap(key) do
    case :jwks_verify_signer.public_jwk(key) do
      %{"kty" => "RSA", "n" => n, "e" => e} ->
        %{kty: :rsa, crv: nil, n: unb64(n), e: unb64(e), key: key}

      %{"kty" => "EC", "crv" => crv, "x" => x, "y" => y} ->
        %{kty: :ec, crv: crv, pub: <<4>> <> unb64(x) <> unb64(y), key: key}

      %{"kty" => "OKP", "crv" => crv, "x" => x} ->
        %{kty: :okp, crv: crv, pub: unb64(x), key: key}
    end
  end

  @doc "The public JWK of a key's fields, as a map with string keys, extra members merged in."
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

  @doc """
  The JWS signature of `alg` over `input` with `key` (raw r||s for ECDSA);
  `salt:` sets the PSS salt length, `md:` the hash.
  """
  def sign(alg, %{key: key}, input, opts \\ []) do
    crafted = %{pss_salt_length: opts[:salt], digest: opts[:md]}
    opts = for {k, v} <- crafted, v != nil, into: %{alg: alg}, do: {k, v}
    :jwks_verify_signer.signature(input, key, opts)
  end

  @doc "The DER form of an ECDSA signature (the classic JOSE mistake)."
  def ecdsa_der(alg, %{key: key}, input),
    do: :jwks_verify_signer.signature(input, key, %{alg: alg, ecdsa_encoding: :der})

  def raw_rs(r, s, size), do: <<r::unsigned-big-size(size * 8), s::unsigned-big-size(size * 8)>>

  ## Tokens

  @doc """
  A compact JWS: header and payload are JSON given as maps (encoded with
  jiffy) or as raw binaries (used as they are, for hand-made JSON).
  """
  def token(alg, key, header, payload, opts \\ []),
    do: sign_input(alg, key, b64(to_json(header)) <> "." <> b64(to_json(payload)), opts)

  @doc "Signs an already encoded `header.payload` signing input."
  def sign_input(alg, key, input, opts \\ []),
    do: input <> "." <> b64(sign(alg, key, input, opts))

  defp to_json(bin) when is_binary(bin), do: bin
  defp to_json(map) when is_map(map), do: json(map)
end
