# Exports the Erlang API's answers for the PHP parity test (parity.phpt):
# every case of the hostile corpus (test/vectors/hostile.eterm) and every
# fixture token (test/fixtures) under a few option sets, each with what
# jwks_verify:verify/3, verify_jws/3, key_set/1 or key_set_info/1 answered,
# and every one of those tokens again through peek_unverified/2. The PHP test
# runs the same inputs through the extension and asserts the same reason (and
# claim name), or the same claims. Also jwks_verify:reasons/0 and the guard's
# details strings (jwks_verify_guard:reasons/0), which the PHP example repeats.
#
#   elixir -pa EBIN php/tests/parity/export.exs OUT.json
#
# EBIN holds jwks_verify, jwks_verify_nif, jwks_verify_badarg and
# jwks_verify_guard with ../priv holding the NIF (php/php.mk builds it that
# way, without Mix). Every option set is one jwks_verify:options/1 accepts:
# `aud' wherever the tokens carry one, or the opt-out `aud => any' (written
# {"any_audience": true}, never the string "any"). Inputs stay templates (the
# corpus's own language, test/vectors/README.md) so that the file is small;
# every byte string is base64 ({"b": ...}) since tokens need not be UTF-8.
defmodule JwksVerify.PhpParity.Export do
  @root Path.expand("../../..", __DIR__)
  @all_algs ~w(RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA)
  @fixture_now 1_700_000_100

  def main([out]) do
    {:ok, terms} = :file.consult(Path.join(@root, "test/vectors/hostile.eterm"))
    [default_opts] = for {:default_opts, o} <- terms, do: o
    named = for {:jwks, name, tmpl} <- terms, into: %{}, do: {name, tmpl}
    key_sets = Map.new(named, fn {name, tmpl} -> {name, key_set!(expand(tmpl))} end)

    hostile =
      for {:case, c} <- terms do
        c = Map.put_new(c, :opts, default_opts)
        export(c, answer(c, named, key_sets))
      end

    fixtures = fixture_cases()

    doc = %{
      "named" => Map.new(named, fn {name, tmpl} -> {Atom.to_string(name), tmpl(tmpl)} end),
      "cases" => hostile ++ fixtures ++ peek_cases(hostile ++ fixtures),
      "reasons" => Enum.map(:jwks_verify.reasons(), &Atom.to_string/1),
      "guard_details" => Map.new(:jwks_verify_guard.reasons(), fn {r, d} -> {Atom.to_string(r), d} end)
    }

    File.write!(out, :jiffy.encode(doc))
    IO.puts("wrote #{out}: #{length(doc["cases"])} cases with the Erlang API's answers")
  end

  # The fixture tokens (signed by the openssl CLI, all with aud
  # "api://default") under option sets that accept them and that refuse them,
  # each for one reason: every set names the audience but those about aud.
  defp fixture_cases do
    dir = Path.join(@root, "test/fixtures")
    jwks = File.read!(Path.join(dir, "jwks.json"))
    ks = key_set!(jwks)
    aud = %{aud: "api://default"}

    opt_sets = [
      {"all-algs", %{algs: @all_algs, now: @fixture_now}},
      {"default-algs", %{now: @fixture_now}},
      {"iss-aud", %{algs: @all_algs, now: @fixture_now, iss: "https://issuer.example",
                    aud: ["x", "api://default"]}},
      {"wrong-iss", %{algs: @all_algs, now: @fixture_now, iss: ["https://other.example"]}},
      {"expired", %{algs: @all_algs, now: 1_700_003_600}},
      {"expired-leeway", %{algs: @all_algs, now: 1_700_003_600, leeway: 1}},
      {"not-yet", %{algs: @all_algs, now: 1_699_999_999}},
      {"required-sub", %{algs: @all_algs, now: @fixture_now, required: ["exp", "sub", "nonce"]}},
      {"required-none", %{algs: @all_algs, now: @fixture_now, required: []}},
      {"typ-jwt", %{algs: @all_algs, now: @fixture_now, typ: "JWT"}},
      {"typ-other", %{algs: @all_algs, now: @fixture_now, typ: "at+jwt"}},
      {"small-max", %{algs: @all_algs, now: @fixture_now, max_token_bytes: 100}}
    ]
    |> Enum.map(fn {set, opts} -> {set, Map.merge(aud, opts)} end)

    aud_sets = [
      {"no-aud", %{algs: @all_algs, now: @fixture_now}},
      {"wrong-aud", %{algs: @all_algs, now: @fixture_now, aud: "api://other"}},
      {"any-aud", %{algs: @all_algs, now: @fixture_now, aud: :any}}
    ]

    for file <- Enum.sort(Path.wildcard(Path.join(dir, "tokens/*.jwt"))),
        {set, opts} <- opt_sets ++ aud_sets do
      token = file |> File.read!() |> String.trim()
      c = %{id: "fixtures/#{Path.basename(file, ".jwt")}/#{set}", what: :jwt,
            note: "openssl CLI fixture", jwks: jwks, token: token, opts: opts}
      export(c, encode_answer(:jwt, :jwks_verify.verify(token, ks, opts)))
    end
  end

  # peek_unverified/2 of every token above, with the case's max_token_bytes:
  # nothing but the size, the segments, base64url and the JSON layer decides.
  defp peek_cases(cases) do
    uniq = Enum.uniq_by(cases, &{&1["token"], &1["opts"]["max_token_bytes"]})

    for %{"what" => what, "token" => tmpl} = c <- uniq, what in ["jwt", "jws"] do
      opts = Map.take(c["opts"], ["max_token_bytes"])
      peek_opts = Map.new(opts, fn {"max_token_bytes", n} -> {:max_token_bytes, n} end)
      answer =
        case :jwks_verify.peek_unverified(expand_json(tmpl), peek_opts) do
          {:ok, %{header: h, claims: cl}} -> %{"ok" => %{"header" => json(h), "claims" => json(cl)}}
          error -> encode_answer(:peek, error)
        end

      %{"id" => "peek/" <> c["id"], "what" => "peek", "note" => c["note"], "opts" => opts,
        "token" => tmpl, "erlang" => answer}
    end
  end

  defp answer(%{what: :jwt} = c, _named, key_sets),
    do: encode_answer(:jwt, :jwks_verify.verify(expand(c.token), ks(c.jwks, key_sets), c.opts))

  defp answer(%{what: :jws} = c, _named, key_sets),
    do: encode_answer(:jws, :jwks_verify.verify_jws(expand(c.token), ks(c.jwks, key_sets), c.opts))

  defp answer(%{what: :jwks} = c, named, _key_sets) do
    doc = case c.jwks do
      {:named, name} -> expand(Map.fetch!(named, name))
      tmpl -> expand(tmpl)
    end

    case :jwks_verify.key_set(doc) do
      {:ok, ks} -> %{"ok" => length(:jwks_verify.key_set_info(ks).keys)}
      error -> encode_answer(:jwks, error)
    end
  end

  defp answer(%{what: :key, kid: kid} = c, _named, key_sets) do
    %{keys: keys} = :jwks_verify.key_set_info(ks(c.jwks, key_sets))
    [%{status: status}] = for %{kid: ^kid} = k <- keys, do: k
    %{"status" => Atom.to_string(status)}
  end

  defp encode_answer(:jwt, {:ok, claims}), do: %{"ok" => json(claims)}

  defp encode_answer(:jws, {:ok, %{header: h, payload: p}}),
    do: %{"ok" => %{"header" => json(h), "payload" => b(p)}}

  defp encode_answer(_, {:error, {reason, detail}}),
    do: %{"error" => Atom.to_string(reason), "detail" => detail}

  defp encode_answer(_, {:error, reason}), do: %{"error" => Atom.to_string(reason)}

  defp json(term), do: IO.iodata_to_binary(:jiffy.encode(term))

  defp export(c, erlang) do
    base = %{"id" => c.id, "what" => Atom.to_string(c.what), "note" => c.note,
             "opts" => opts(c[:opts] || %{}), "erlang" => erlang}

    base
    |> put_if(Map.has_key?(c, :token), "token", fn -> tmpl(c[:token]) end)
    |> put_if(Map.has_key?(c, :kid), "kid", fn -> tmpl(c[:kid]) end)
    |> Map.put("jwks", case c.jwks do
      {:named, name} -> %{"named" => Atom.to_string(name)}
      tmpl -> tmpl(tmpl)
    end)
  end

  defp put_if(m, true, k, f), do: Map.put(m, k, f.())
  defp put_if(m, false, _k, _f), do: m

  defp opts(o) do
    Map.new(o, fn
      {:aud, :any} -> {"aud", %{"any_audience" => true}}
      {k, v} when is_binary(v) -> {Atom.to_string(k), b(v)}
      {k, v} when is_list(v) -> {Atom.to_string(k), Enum.map(v, &b/1)}
      {k, :undefined} -> {Atom.to_string(k), nil}
      {k, v} -> {Atom.to_string(k), v}
    end)
  end

  defp ks({:named, name}, key_sets), do: Map.fetch!(key_sets, name)
  defp ks(doc, _key_sets), do: key_set!(doc)

  defp key_set!(doc) do
    {:ok, ks} = :jwks_verify.key_set(doc)
    ks
  end

  defp b(bin), do: %{"b" => Base.encode64(bin)}

  # Templates as JSON: test/vectors/README.md's language, one key per form.
  defp tmpl(b) when is_binary(b), do: b(b)
  defp tmpl({:cat, parts}), do: %{"cat" => Enum.map(parts, &tmpl/1)}
  defp tmpl({:repeat, t, n}), do: %{"repeat" => [tmpl(t), n]}
  defp tmpl({:b64, t}), do: %{"b64" => tmpl(t)}
  defp tmpl({:seq, before, aft, from, to, sep}), do: %{"seq" => [b(before), b(aft), from, to, b(sep)]}

  # A template as tmpl/1 wrote it, expanded (for the peek cases).
  defp expand_json(%{"b" => b}), do: Base.decode64!(b)
  defp expand_json(%{"cat" => parts}), do: IO.iodata_to_binary(Enum.map(parts, &expand_json/1))
  defp expand_json(%{"repeat" => [t, n]}), do: :binary.copy(expand_json(t), n)
  defp expand_json(%{"b64" => t}), do: Base.url_encode64(expand_json(t), padding: false)

  defp expand_json(%{"seq" => [before, aft, from, to, sep]}),
    do: expand({:seq, expand_json(before), expand_json(aft), from, to, expand_json(sep)})

  defp expand(b) when is_binary(b), do: b
  defp expand({:cat, parts}), do: IO.iodata_to_binary(Enum.map(parts, &expand/1))
  defp expand({:repeat, t, n}), do: :binary.copy(expand(t), n)
  defp expand({:b64, t}), do: Base.url_encode64(expand(t), padding: false)

  defp expand({:seq, before, aft, from, to, sep}),
    do: Enum.map_join(from..to, sep, &(before <> Integer.to_string(&1) <> aft))
end

JwksVerify.PhpParity.Export.main(System.argv())
