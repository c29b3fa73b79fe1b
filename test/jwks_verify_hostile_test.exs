# Guards "never accepts a forgery, never crashes, always says why": runs the
# hostile-input corpus test/vectors/hostile.eterm (made by test/vectors/gen.exs,
# format in test/vectors/README.md) through the public Erlang API, and every
# case must give exactly its expected answer, reason atom included.
defmodule JwksVerify.HostileTest do
  use ExUnit.Case, async: true

  @corpus Path.expand("vectors/hostile.eterm", __DIR__)
  @external_resource @corpus

  {:ok, terms} = :file.consult(@corpus)
  @cases for {:case, c} <- terms, do: {c.id, c.what, c.note}

  setup_all do
    {:ok, terms} = :file.consult(@corpus)
    [default_opts] = for {:default_opts, o} <- terms, do: o
    named = for {:jwks, name, tmpl} <- terms, into: %{}, do: {name, expand(tmpl)}

    # Each named key set is parsed once; cases that check a document parse it themselves.
    key_sets =
      for {name, doc} <- named, into: %{} do
        {:ok, ks} = :jwks_verify.key_set(doc)
        {name, ks}
      end

    cases = for {:case, c} <- terms, into: %{}, do: {c.id, Map.put_new(c, :opts, default_opts)}

    # Kept out of the test context, which ExUnit copies into every test process
    # (megabytes here); persistent terms are read without copying.
    :persistent_term.put(__MODULE__, %{cases: cases, named: named, key_sets: key_sets})
    on_exit(fn -> :persistent_term.erase(__MODULE__) end)
  end

  test "the corpus is as large and as varied as its README says" do
    whats = @cases |> Enum.map(&elem(&1, 1)) |> Enum.frequencies()
    assert length(@cases) >= 300
    assert Map.keys(whats) |> Enum.sort() == [:jwks, :jws, :jwt, :key]
  end

  test "every expected reason is a documented reason" do
    %{cases: cases} = :persistent_term.get(__MODULE__)
    documented = MapSet.new(:jwks_verify.reasons())

    for {id, c} <- cases, reason <- List.wrap(expected_reason(c.expect)) do
      assert reason in documented,
             "#{id} expects #{inspect(reason)}, which reasons/0 does not list"
    end
  end

  # One describe per category (the id's prefix: alg/, kid/, siglen/, ...).
  for {category, cases} <- Enum.group_by(@cases, &(&1 |> elem(0) |> String.split("/") |> hd())) do
    describe "#{category}/" do
      for {id, what, note} <- cases do
        @tag what: what
        test "#{id}: #{note}" do
          ctx = :persistent_term.get(__MODULE__)
          run(Map.fetch!(ctx.cases, unquote(id)), ctx)
        end
      end
    end
  end

  defp run(%{what: :jwt} = c, ctx) do
    got = :jwks_verify.verify(expand(c.token), key_set(c.jwks, ctx), c.opts)
    check(c, got)
  end

  defp run(%{what: :jws} = c, ctx) do
    got =
      case :jwks_verify.verify_jws(expand(c.token), key_set(c.jwks, ctx), c.opts) do
        {:ok, %{payload: payload, header: header}} when is_map(header) -> {:ok, payload}
        other -> other
      end

    check(c, got)
  end

  defp run(%{what: :jwks} = c, ctx) do
    doc =
      case c.jwks do
        {:named, name} -> Map.fetch!(ctx.named, name)
        tmpl -> expand(tmpl)
      end

    got =
      case :jwks_verify.key_set(doc) do
        {:ok, ks} -> {:ok, length(:jwks_verify.key_set_info(ks).keys)}
        other -> other
      end

    check(c, got)
  end

  defp run(%{what: :key, kid: kid} = c, ctx) do
    %{keys: keys} = :jwks_verify.key_set_info(key_set(c.jwks, ctx))
    assert [%{status: status}] = for(%{kid: ^kid} = k <- keys, do: k), "no single key #{kid}"
    check(c, status)
  end

  defp check(%{what: :key} = c, got),
    do:
      assert(
        got == c.expect,
        "#{c.id} (#{c.note}): want #{inspect(c.expect)}, got #{inspect(got)}"
      )

  defp check(%{expect: :ok} = c, got),
    do: assert(match?({:ok, _}, got), "#{c.id} (#{c.note}): want ok, got #{inspect(got)}")

  defp check(c, got),
    do:
      assert(
        got == c.expect,
        "#{c.id} (#{c.note}): want #{inspect(c.expect)}, got #{inspect(got, limit: 20)}"
      )

  defp key_set({:named, name}, ctx), do: Map.fetch!(ctx.key_sets, name)

  defp expected_reason({:error, {reason, _detail}}), do: reason
  defp expected_reason({:error, reason}), do: reason
  defp expected_reason(status) when is_atom(status) and status != :ok, do: status
  defp expected_reason(_), do: nil

  # The corpus's template language (test/vectors/README.md).
  defp expand(b) when is_binary(b), do: b
  defp expand({:cat, parts}), do: IO.iodata_to_binary(Enum.map(parts, &expand/1))
  defp expand({:repeat, t, n}), do: :binary.copy(expand(t), n)
  defp expand({:b64, t}), do: Base.url_encode64(expand(t), padding: false)

  defp expand({:seq, before, aft, from, to, sep}),
    do: Enum.map_join(from..to, sep, &(before <> Integer.to_string(&1) <> aft))
end
