# Generates the fuzzers' fixed key set (fuzz/fixed_jwks.h) and their seed
# corpora (fuzz/corpus/<harness>/): valid inputs, and near-valid ones that
# fail at each stage, so libFuzzer starts deep in every parser.
#
#   elixir fuzz/gen_seeds.exs          (from the repository root)
#
# Keys are made fresh and tokens signed by :jwks_verify_signer (OTP's
# :public_key, through test/vectors/signer.exs), never by jwks_verify.
Code.require_file("../test/vectors/signer.exs", __DIR__)

defmodule JwksVerify.FuzzSeeds do
  alias JwksVerify.Vectors.Signer, as: S

  # Must match FUZZ_NOW in the harnesses' view (written into fixed_jwks.h).
  @now 1_700_000_000
  @exp 4_102_444_800

  def run(dir) do
    keys = %{
      rsa: S.rsa_key(),
      ec256: S.ec_key("P-256"),
      ec384: S.ec_key("P-384"),
      ec521: S.ec_key("P-521"),
      ed: S.ed_key(),
      small: S.rsa_key(1024)
    }

    jwks = [
      S.jwk(keys.rsa, %{"kid" => "rsa", "use" => "sig"}),
      S.jwk(keys.rsa),
      S.jwk(keys.rsa, %{"kid" => "rsa-ps", "alg" => "PS256"}),
      S.jwk(keys.rsa, %{"kid" => "rsa-enc", "use" => "enc"}),
      S.jwk(keys.ec256, %{"kid" => "ec256"}),
      S.jwk(keys.ec256),
      S.jwk(keys.ec384, %{"kid" => "ec384", "key_ops" => ["verify"]}),
      S.jwk(keys.ec521, %{"kid" => "ec521"}),
      S.jwk(keys.ed, %{"kid" => "ed25519"}),
      S.jwk(keys.small, %{"kid" => "small"}),
      S.jwk(keys.rsa, %{"kid" => "dup"}),
      S.jwk(keys.ec256, %{"kid" => "dup"}),
      %{"kty" => "oct", "kid" => "hmac", "k" => "c2VjcmV0"}
    ]

    doc = S.jwks(jwks)

    claims = %{
      "iss" => "https://issuer.example",
      "aud" => "api",
      "sub" => "alice",
      "exp" => @exp,
      "nbf" => @now - 10,
      "iat" => @now - 10
    }

    signer = fn
      "RS" <> _ -> {keys.rsa, "rsa"}
      "PS" <> _ -> {keys.rsa, "rsa"}
      "ES256" -> {keys.ec256, "ec256"}
      "ES384" -> {keys.ec384, "ec384"}
      "ES512" -> {keys.ec521, "ec521"}
      "EdDSA" -> {keys.ed, "ed25519"}
    end

    valid =
      for alg <- S.algs() do
        {key, kid} = signer.(alg)
        {"valid-#{alg}", S.token(alg, key, %{"alg" => alg, "kid" => kid, "typ" => "JWT"}, claims)}
      end

    no_kid =
      for alg <- ~w(RS256 ES256) do
        {key, _} = signer.(alg)
        {"nokid-#{alg}", S.token(alg, key, %{"alg" => alg}, claims)}
      end

    {rsa, _} = signer.("RS256")
    tok = fn h, c -> S.token("RS256", rsa, h, c) end
    h = %{"alg" => "RS256", "kid" => "rsa"}
    [vh, vp, _] = String.split(elem(hd(valid), 1), ".")

    near = [
      {"alg-none", S.b64(~s({"alg":"none"})) <> "." <> vp <> "."},
      {"alg-hs256",
       S.b64(~s({"alg":"HS256","kid":"hmac"})) <>
         "." <> vp <> "." <> S.b64(:crypto.mac(:hmac, :sha256, "secret", "x"))},
      {"embedded-jwk", tok.(Map.put(h, "jwk", S.jwk(rsa)), claims)},
      {"crit", tok.(Map.merge(h, %{"crit" => ["b64"], "b64" => false}), claims)},
      {"kid-unknown", tok.(%{h | "kid" => "../../etc/passwd"}, claims)},
      {"kid-dup", tok.(%{h | "kid" => "dup"}, claims)},
      {"kid-small", S.token("RS256", keys.small, %{h | "kid" => "small"}, claims)},
      {"kid-enc", tok.(%{h | "kid" => "rsa-enc"}, claims)},
      {"ps-key-rs-token", tok.(%{h | "kid" => "rsa-ps"}, claims)},
      {"expired", tok.(h, %{claims | "exp" => @now - 1})},
      {"not-yet", tok.(h, %{claims | "nbf" => @now + 100})},
      {"no-exp", tok.(h, Map.delete(claims, "exp"))},
      {"big-exp", tok.(h, ~s({"exp":9223372036854775808,"sub":"x"}))},
      {"float-exp", tok.(h, ~s({"exp":1e400,"sub":"x"}))},
      {"aud-list", tok.(h, %{claims | "aud" => ["x", "api"]})},
      {"deep-claims",
       tok.(h, ~s({"exp":#{@exp},"x":[[[[[[[[{"a":[1,2.5,-3e2,true,false,null,"s"]}]]]]]]]]}))},
      {"unicode-claims", tok.(h, ~s({"exp":#{@exp},"sub":"J\\u00fcrgen \\ud83d\\ude00"}))},
      {"dup-claims", tok.(h, ~s({"exp":#{@exp},"exp":1}))},
      {"payload-array", tok.(h, "[1,2,3]")},
      {"sig-short", vh <> "." <> vp <> "." <> S.b64("short")},
      {"two-segments", vh <> "." <> vp},
      {"four-segments", elem(hd(valid), 1) <> ".AAAA"},
      {"padding", elem(hd(valid), 1) <> "=="},
      {"ec-r-zero",
       S.token("ES256", keys.ec256, %{"alg" => "ES256", "kid" => "ec256"}, claims)
       |> replace_sig(<<0::512>>)}
    ]

    write(dir, "token", valid ++ no_kid ++ near)

    singles =
      [
        {"jwks-full", doc},
        {"jwks-empty", ~s({"keys":[]})},
        {"bare-jwk", S.json(S.jwk(keys.ed))},
        {"rsa-e1", S.jwks([S.jwk(%{keys.rsa | e: <<1>>}, %{"kid" => "e1"})])},
        {"ec-off-curve",
         S.jwks([
           S.jwk(keys.ec256, %{"kid" => "off"}) |> Map.put("y", S.b64(:binary.copy(<<1>>, 32)))
         ])},
        {"mixed",
         S.jwks([
           %{"kty" => "EC", "crv" => "P-256"},
           1,
           [],
           %{"kty" => "OKP", "crv" => "X25519", "x" => "AA"}
         ])},
        {"nested", ~s({"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","x":[[{"y":[1e5,-0,0.5]}]]}]})}
      ] ++ for(j <- jwks, do: {"key-#{j["kid"] || j["kty"]}-#{:erlang.phash2(j)}", S.jwks([j])})

    write(dir, "jwks", singles)

    write(dir, "b64url", [
      {"empty", ""},
      {"one", "QQ"},
      {"two", "QUI"},
      {"three", "QUJD"},
      {"alphabet", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"},
      {"header", vh},
      {"padded", "QQ=="},
      {"std", "+/+/"},
      {"trailing-bits", "QR"},
      {"bytes", S.b64(:crypto.strong_rand_bytes(100))}
    ])

    # Claims input: flags byte, name length, name (an extra required claim), JSON.
    c = fn flags, name, json -> <<flags, byte_size(name)>> <> name <> json end
    cj = S.json(claims)

    write(dir, "claims", [
      {"all-checks", c.(0x87, "sub", cj)},
      {"no-checks", c.(0x00, "", cj)},
      {"expired", c.(0x81, "", S.json(%{claims | "exp" => 1}))},
      {"leeway", c.(0x99, "jti", S.json(%{claims | "nbf" => @now + 30}))},
      {"now-max", c.(0xE1, "", ~s({"exp":9223372036854775807,"nbf":-9223372036854775808}))},
      {"numbers",
       c.(
         0x80,
         "x",
         ~s({"exp":1e400,"a":-0,"b":01,"c":1.5e-3,"d":123456789012345678901234567890})
       )},
      {"aud-list", c.(0x82, "", ~s({"exp":#{@exp},"aud":["a","api",1]}))},
      {"strings",
       c.(0x83, "iss", ~s({"iss":"https:\\/\\/issuer.example","aud":"\\u0061pi","exp":#{@exp}}))},
      {"deep",
       c.(0x80, "", ~s({"exp":#{@exp},"x":[[[[[[[[[[{"a":{"b":[true,false,null]}}]]]]]]]]]]}))},
      {"not-object", c.(0x80, "", "[1,2,3]")}
    ])

    tokens = for {_, t} <- valid ++ no_kid, do: t

    header = """
    /* Generated by fuzz/gen_seeds.exs; do not edit. The fuzzers' fixed key
     * set and the valid tokens its keys signed (claims valid at FUZZ_NOW). */
    #ifndef FUZZ_FIXED_JWKS_H
    #define FUZZ_FIXED_JWKS_H

    #define FUZZ_NOW #{@now}

    static const char fixed_jwks[] =
    #{c_string(doc)};

    static const char *const fixed_tokens[] = {
    #{Enum.map_join(tokens, ",\n", &("    " <> c_string(&1)))},
    };

    #endif
    """

    File.write!(Path.join(dir, "fixed_jwks.h"), header)
    IO.puts("wrote #{dir}/fixed_jwks.h and #{dir}/corpus/")
  end

  defp replace_sig(token, sig) do
    [h, p, _] = String.split(token, ".")
    h <> "." <> p <> "." <> S.b64(sig)
  end

  defp write(dir, harness, seeds) do
    d = Path.join([dir, "corpus", harness])
    File.rm_rf!(d)
    File.mkdir_p!(d)
    for {name, bin} <- seeds, do: File.write!(Path.join(d, name), bin)
  end

  # A C string literal, split every 76 characters.
  defp c_string(bin) do
    bin
    |> :binary.bin_to_list()
    |> Enum.map(fn
      ?" -> "\\\""
      ?\\ -> "\\\\"
      c when c in 0x20..0x7E -> <<c>>
      c -> "\\" <> String.pad_leading(Integer.to_string(c, 8), 3, "0")
    end)
    |> Enum.chunk_every(76)
    |> Enum.map_join("\n", &("\"" <> Enum.join(&1) <> "\""))
  end
end

JwksVerify.FuzzSeeds.run(__DIR__)
