# Guards the JSON of tokens end to end, as c_src/val.c reads it (one pass,
# members sorted for the claims map) and c_src/json.c reads key sets: a \u
# escape needs four hex digits (cJSON read "alice\uzzzz" as "alice", so a
# signed token or a JWKS could say one thing and be read as another), members
# come back whole and exact whatever their order and number (more than 32
# members make an Erlang hash map, not a flat one), and escapes that spell a
# name already there are duplicates. Tokens are signed by :public_key
# (test/support/token_helpers.ex).
defmodule JwksVerify.TokenJsonTest do
  use ExUnit.Case, async: true

  import JwksVerify.TokenHelpers

  @now 1_700_000_000

  setup_all do
    key = rsa_key(2048)
    {:ok, ks} = JwksVerify.key_set(jwks_json([public_jwk(key, %{"kid" => "rsa"})]))
    %{key: key, ks: ks, opts: JwksVerify.options(now: @now, required: [])}
  end

  defp signed(ctx, header_json, payload_json),
    do: token(ctx.key, "RS256", payload_json, header_json)

  describe "a \\u escape without four hex digits" do
    test "in the header's kid is bad_header, not the kid before it", ctx do
      for kid <- [~S(rsa\uzzzz), ~S(rsa\u00zz), ~S(rsa\u12), ~S(rsa\u)] do
        tok = signed(ctx, ~s({"alg":"RS256","kid":"#{kid}"}), ~s({"sub":"alice"}))
        assert JwksVerify.verify(tok, ctx.ks, ctx.opts) == {:error, :bad_header}, kid
      end

      # the same escape spelled right names the key
      tok = signed(ctx, ~S({"alg":"RS256","kid":"rs\u0061"}), ~s({"sub":"alice"}))
      assert {:ok, %{"sub" => "alice"}} = JwksVerify.verify(tok, ctx.ks, ctx.opts)
    end

    test "in a claim is bad_payload, not the string before it", ctx do
      tok = signed(ctx, ~s({"alg":"RS256","kid":"rsa"}), ~S({"sub":"alice\uzzzz-admin"}))
      assert JwksVerify.verify(tok, ctx.ks, ctx.opts) == {:error, :bad_payload}
      assert JwksVerify.peek_unverified(tok) == {:error, :bad_payload}
    end

    test "in a key set's kid is bad_json, not the kid before it", ctx do
      jwk = ctx.key |> public_jwk() |> Map.put("kid", "PLACEHOLDER")
      doc = String.replace(jwks_json([jwk]), "PLACEHOLDER", ~S(rsa\uzzzz))
      assert JwksVerify.key_set(doc) == {:error, :bad_json}
    end
  end

  describe "members" do
    test "come back whole and exact, in any order and number", ctx do
      for n <- [1, 2, 8, 9, 31, 32, 33, 100, 1000] do
        claims = Map.new(1..n, &{"c#{&1}", &1})
        # written in reverse order of their names, and with escapes in names
        json =
          "{" <>
            (claims
             |> Enum.sort(:desc)
             |> Enum.map_join(",", fn {k, v} ->
               ~s("#{String.replace(k, "c", "\\u0063")}":#{v})
             end)) <>
            "}"

        tok = signed(ctx, ~s({"alg":"RS256","kid":"rsa"}), json)
        opts = JwksVerify.options(now: @now, required: [], max_token_bytes: 65_536)
        assert JwksVerify.verify(tok, ctx.ks, opts) == {:ok, claims}, "#{n} members"

        assert {:ok, %{claims: ^claims}} =
                 JwksVerify.peek_unverified(tok, max_token_bytes: 65_536)
      end
    end

    test "an escape that spells a name already there is a duplicate", ctx do
      tok = signed(ctx, ~s({"alg":"RS256","kid":"rsa"}), ~S({"sub":"a","s\u0075b":"b"}))
      assert JwksVerify.verify(tok, ctx.ks, ctx.opts) == {:error, :bad_payload}

      many = Enum.map_join(1..40, ",", &~s("m#{&1}":#{&1})) <> ~S(,"m\u0031":0)
      tok = signed(ctx, ~s({"alg":"RS256","kid":"rsa"}), "{" <> many <> "}")
      assert JwksVerify.verify(tok, ctx.ks, ctx.opts) == {:error, :bad_payload}
    end

    test "names and strings keep every byte: escapes decoded, UTF-8 as sent", ctx do
      json = ~S({"n\u00e9":"\ud83d\ude00\n\"","é":"é","":"","sub":"x"})
      tok = signed(ctx, ~s({"alg":"RS256","kid":"rsa"}), json)

      assert JwksVerify.verify(tok, ctx.ks, ctx.opts) ==
               {:ok, %{"né" => "😀\n\"", "é" => "é", "" => "", "sub" => "x"}}
    end
  end
end
