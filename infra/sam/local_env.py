"""What `sam local invoke` would put in each function's environment, resolved by SAM CLI's
own code (the function provider that reads template.yaml and the runner that merges
`--env-vars`), without Docker: SAM builds this environment before it starts a container.

    .venv/bin/python infra/sam/local_env.py [--env-vars events/env.json] [--parameter-overrides K=V ...]

Prints {"FunctionLogicalId": {"VAR": "value", ...}, ...} as JSON. The shell's own
variables are left out (SAM lets them override declared ones; the tests want the
template's and the file's values only).
"""

import argparse
import json
import os
import sys

from samcli.commands.local.lib.local_lambda import LocalLambdaRunner
from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--template", default="template.yaml")
    parser.add_argument("--env-vars", default=None)
    parser.add_argument("--parameter-overrides", nargs="*", default=[])
    args = parser.parse_args()

    overrides = dict(p.split("=", 1) for p in args.parameter_overrides)
    stacks, _ = SamLocalStackProvider.get_stacks(args.template, parameter_overrides=overrides)
    provider = SamFunctionProvider(stacks)
    env_vars = {}
    if args.env_vars:
        with open(args.env_vars) as f:
            env_vars = json.load(f)
    runner = LocalLambdaRunner(
        local_runtime=None,
        function_provider=provider,
        cwd=os.path.dirname(os.path.abspath(args.template)),
        real_path=os.path.dirname(os.path.abspath(args.template)),
        aws_region="us-east-1",
        env_vars_values=env_vars,
    )
    # SAM lets the shell override declared variables; resolve without the shell's.
    os.environ.clear()
    resolved = {}
    for function in provider.get_all():
        resolved[function.name] = runner._make_env_vars(function).resolve()
    json.dump(resolved, sys.stdout, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
