#!/usr/bin/env python3
"""Checks template.yaml (AWS SAM) as far as it can be checked without AWS, cfn-lint or the SAM
CLI: it parses with CloudFormation's short tags (!Ref, !GetAtt, !Sub, ...), every property used
is one SAM documents for that resource or event type, every resource is built by the Makefile
(BuildMethod: makefile and a build-<LogicalId> target, for the same example and architecture:
`make print-sam-targets`), and every !Ref, !GetAtt and ${...} in !Sub names something that
exists once SAM has transformed the template. Needs python3 with PyYAML (Debian: apt-get
install python3-yaml; .ci/run installs it). Last line: "N passed, N failed"."""
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
passed = 0
failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("  FAIL " + what)


def finish():
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


try:
    import yaml
except ImportError:
    check(False, "python3 has no yaml module (apt-get install python3-yaml)")
    finish()


class Tag:
    """A CloudFormation short-form intrinsic: !Ref X -> Tag('Ref', 'X')."""

    def __init__(self, name, value):
        self.name, self.value = name, value

    def __repr__(self):
        return "!%s %r" % (self.name, self.value)


class CfnLoader(yaml.SafeLoader):
    pass


SHORT_TAGS = ["Ref", "GetAtt", "Sub", "Join", "Select", "Split", "If", "Equals", "Not", "And",
              "Or", "FindInMap", "GetAZs", "ImportValue", "Base64", "Cidr", "Condition"]


def make_constructor(name):
    def construct(loader, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if name == "GetAtt":  # !GetAtt A.B is [A, B]
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return Tag(name, value)
    return construct


for t in SHORT_TAGS:
    CfnLoader.add_constructor("!" + t, make_constructor(t))

# Properties used here that SAM documents (AWS::Serverless::Function, ::LayerVersion, the
# HttpApi event, FunctionUrlConfig, Globals), and the Metadata keys sam build reads.
FUNCTION_PROPS = {"Architectures", "CodeUri", "Description", "Environment", "Events",
                  "FunctionName", "FunctionUrlConfig", "Handler", "Layers", "LoggingConfig",
                  "MemorySize", "Policies", "Role", "Runtime", "Tags", "Timeout", "Tracing"}
LAYER_PROPS = {"CompatibleArchitectures", "CompatibleRuntimes", "ContentUri", "Description",
               "LayerName", "LicenseInfo", "PublishLambdaVersion", "RetentionPolicy"}
HTTPAPI_PROPS = {"ApiId", "Auth", "Method", "Path", "PayloadFormatVersion", "RouteSettings",
                 "TimeoutInMillis"}
URL_PROPS = {"AuthType", "Cors", "InvokeMode"}
GLOBAL_FUNCTION_PROPS = FUNCTION_PROPS - {"FunctionName", "Events"}
FUNCTION_METADATA = {"BuildMethod"}
LAYER_METADATA = {"BuildMethod", "BuildArchitecture"}
ARCHS = {"x86_64", "arm64"}

path = os.path.join(ROOT, "template.yaml")
try:
    with open(path) as f:
        tpl = yaml.load(f, Loader=CfnLoader)
    check(isinstance(tpl, dict), "template.yaml is not a mapping")
except (OSError, yaml.YAMLError) as e:
    check(False, "template.yaml does not parse: %s" % e)
    finish()

check(tpl.get("AWSTemplateFormatVersion") == "2010-09-09", "AWSTemplateFormatVersion is not 2010-09-09")
check(tpl.get("Transform") == "AWS::Serverless-2016-10-31", "Transform is not AWS::Serverless-2016-10-31")
known_top = {"AWSTemplateFormatVersion", "Transform", "Description", "Globals", "Parameters",
             "Mappings", "Conditions", "Resources", "Outputs", "Metadata"}
check(set(tpl) <= known_top, "unknown top-level keys: %s" % sorted(set(tpl) - known_top))
resources = tpl.get("Resources") or {}
check(len(resources) > 0, "no Resources")
gfun = ((tpl.get("Globals") or {}).get("Function") or {})
check(set(gfun) <= GLOBAL_FUNCTION_PROPS, "Globals.Function: unknown properties %s" % sorted(set(gfun) - GLOBAL_FUNCTION_PROPS))

# what the Makefile builds: LOGICAL_ID -> (example, arch, kind)
env = dict(os.environ)
for v in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
    env.pop(v, None)
out = subprocess.run(["make", "-s", "--no-print-directory", "-C", ROOT, "print-sam-targets"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, universal_newlines=True)
check(out.returncode == 0, "make print-sam-targets failed: %s" % out.stderr.strip())
targets = {}
for line in out.stdout.split():
    parts = line.split(":")
    if len(parts) == 4:
        targets[parts[0]] = tuple(parts[1:])
check(len(targets) > 0, "make print-sam-targets listed nothing")
with open(os.path.join(ROOT, "Makefile")) as f:
    makefile = f.read()

examples = set(os.listdir(os.path.join(ROOT, "examples")))
functions = {k: v for k, v in resources.items() if v.get("Type") == "AWS::Serverless::Function"}
layers = {k: v for k, v in resources.items() if v.get("Type") == "AWS::Serverless::LayerVersion"}
check(len(functions) >= 4 and len(layers) >= 1, "expected at least 4 functions and 1 layer")
check(set(targets) == set(functions) | set(layers),
      "resources %s and build-<LogicalId> targets %s differ" % (sorted(set(functions) | set(layers)), sorted(targets)))


def prop(res, name):
    """A function property, from the resource or else from Globals.Function."""
    p = res.get("Properties") or {}
    return p[name] if name in p else gfun.get(name)


archs_seen = set()
for lid, res in sorted(functions.items()):
    p = res.get("Properties") or {}
    md = res.get("Metadata") or {}
    check(set(p) <= FUNCTION_PROPS, "%s: unknown properties %s" % (lid, sorted(set(p) - FUNCTION_PROPS)))
    check(prop(res, "Runtime") == "provided.al2023", "%s: Runtime is not provided.al2023" % lid)
    check(prop(res, "Handler") == "bootstrap", "%s: Handler is not bootstrap" % lid)
    check(p.get("CodeUri") in (".", "./"), "%s: CodeUri is not the repository root (where the Makefile is)" % lid)
    arch = prop(res, "Architectures")
    check(isinstance(arch, list) and len(arch) == 1 and arch[0] in ARCHS,
          "%s: Architectures must be one of %s" % (lid, sorted(ARCHS)))
    check(md.get("BuildMethod") == "makefile", "%s: Metadata.BuildMethod is not makefile" % lid)
    check(set(md) <= FUNCTION_METADATA, "%s: unknown Metadata keys %s" % (lid, sorted(set(md) - FUNCTION_METADATA)))
    check(re.search(r"^\$\(call sam_function,%s," % re.escape(lid), makefile, re.M) is not None,
          "%s: no $(call sam_function,%s,...) line in the Makefile" % (lid, lid))
    t = targets.get(lid)
    check(t is not None and t[2] == "function", "%s: make build-%s is not a function target" % (lid, lid))
    if t and isinstance(arch, list) and arch:
        check(t[1] == arch[0], "%s: Architectures %s but build-%s builds %s" % (lid, arch[0], lid, t[1]))
        check(t[0] in examples, "%s: build-%s builds examples/%s, which does not exist" % (lid, lid, t[0]))
        archs_seen.add(arch[0])
    for ename, ev in sorted((p.get("Events") or {}).items()):
        check(ev.get("Type") == "HttpApi", "%s.%s: only HttpApi events are expected here" % (lid, ename))
        ep = ev.get("Properties") or {}
        check(set(ep) <= HTTPAPI_PROPS, "%s.%s: unknown HttpApi properties %s" % (lid, ename, sorted(set(ep) - HTTPAPI_PROPS)))
        check(str(ep.get("Path", "/")).startswith("/"), "%s.%s: Path must start with /" % (lid, ename))
        check(ep.get("PayloadFormatVersion", "2.0") in ("1.0", "2.0"), "%s.%s: examples/http reads payload formats 1.0 and 2.0" % (lid, ename))
    url = p.get("FunctionUrlConfig")
    if url is not None:
        check(set(url) <= URL_PROPS, "%s: unknown FunctionUrlConfig properties %s" % (lid, sorted(set(url) - URL_PROPS)))
        check(url.get("AuthType") in ("NONE", "AWS_IAM"), "%s: FunctionUrlConfig.AuthType must be NONE or AWS_IAM" % lid)
        check(url.get("InvokeMode", "BUFFERED") in ("BUFFERED", "RESPONSE_STREAM"), "%s: bad InvokeMode" % lid)
check(archs_seen == ARCHS, "functions should cover both x86_64 and arm64 (have %s)" % sorted(archs_seen))


def example_of(lid):
    return targets.get(lid, ("?",))[0]


stream = [k for k in functions if example_of(k) == "stream"]
check(len(stream) == 1, "one function builds examples/stream")
for k in stream:
    url = (functions[k].get("Properties") or {}).get("FunctionUrlConfig") or {}
    check(url.get("InvokeMode") == "RESPONSE_STREAM", "%s: FunctionUrlConfig.InvokeMode is not RESPONSE_STREAM" % k)
http = [k for k in functions if example_of(k) == "http"]
check(len(http) == 1, "one function builds examples/http")
for k in http:
    evs = (functions[k].get("Properties") or {}).get("Events") or {}
    check(any(e.get("Type") == "HttpApi" for e in evs.values()), "%s: no HttpApi event" % k)

for lid, res in sorted(layers.items()):
    p = res.get("Properties") or {}
    md = res.get("Metadata") or {}
    check(set(p) <= LAYER_PROPS, "%s: unknown properties %s" % (lid, sorted(set(p) - LAYER_PROPS)))
    check(p.get("ContentUri") in (".", "./"), "%s: ContentUri is not the repository root" % lid)
    check(md.get("BuildMethod") == "makefile", "%s: Metadata.BuildMethod is not makefile" % lid)
    check(set(md) <= LAYER_METADATA, "%s: unknown Metadata keys %s" % (lid, sorted(set(md) - LAYER_METADATA)))
    check("provided.al2023" in (p.get("CompatibleRuntimes") or []), "%s: CompatibleRuntimes lacks provided.al2023" % lid)
    t = targets.get(lid)
    check(t is not None and t[2] == "layer", "%s: make build-%s is not a layer target" % (lid, lid))
    check(md.get("BuildArchitecture") in ARCHS, "%s: Metadata.BuildArchitecture must be x86_64 or arm64" % lid)
    if t:
        check(t[1] == md.get("BuildArchitecture"), "%s: BuildArchitecture %s but build-%s builds %s" % (lid, md.get("BuildArchitecture"), lid, t[1]))
        check(p.get("CompatibleArchitectures") == [t[1]], "%s: CompatibleArchitectures is not [%s]" % (lid, t[1]))
    # the functions using the layer run on its architecture
    for fid, f in functions.items():
        for ref in prop(f, "Layers") or []:
            if isinstance(ref, Tag) and ref.name == "Ref" and ref.value == lid:
                check(prop(f, "Architectures") == p.get("CompatibleArchitectures"),
                      "%s uses %s on another architecture" % (fid, lid))
check(any(isinstance(r, Tag) and r.value in layers for f in functions.values() for r in (prop(f, "Layers") or [])),
      "no function uses the extension layer")

# names an intrinsic may refer to: resources, what SAM generates from them, pseudo parameters
names = set(resources) | set((tpl.get("Parameters") or {}))
for lid, f in functions.items():
    p = f.get("Properties") or {}
    if p.get("FunctionUrlConfig") is not None:
        names.add(lid + "Url")  # AWS::Lambda::Url
    names.add(lid + "Role")     # the execution role SAM creates when Role is not given
    if any(e.get("Type") == "HttpApi" and "ApiId" not in (e.get("Properties") or {}) for e in (p.get("Events") or {}).values()):
        names.add("ServerlessHttpApi")
refs = []


def walk(node):
    if isinstance(node, Tag):
        refs.append(node)
        walk(node.value)
    elif isinstance(node, dict):
        for v in node.values():
            walk(v)
    elif isinstance(node, list):
        for v in node:
            walk(v)


walk(tpl)
check(len(refs) > 0, "no intrinsic functions found (were the short tags parsed?)")
for r in refs:
    if r.name == "Ref":
        check(r.value in names or str(r.value).startswith("AWS::"), "!Ref %s: no such resource or parameter" % r.value)
    elif r.name == "GetAtt":
        check(isinstance(r.value, list) and r.value[0] in names, "!GetAtt %s: no such resource" % r.value)
    elif r.name == "Sub":
        s = r.value if isinstance(r.value, str) else r.value[0]
        for var in re.findall(r"\$\{([^}!]+)\}", s):
            base = var.split(".")[0]
            check(base in names or var.startswith("AWS::"), "!Sub ${%s}: no such resource or pseudo parameter" % var)
finish()
