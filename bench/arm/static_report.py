"""Static evidence for the speed of the ARM64 kernels (qemu timing is meaningless).

For every kernel variant of the ARM cross build (the generator commands of
<build>/arm, so exactly the variants runtime/kernels/CMakeLists.txt lists) it
emits the AArch64 assembly, finds the innermost loops that do the arithmetic,
and reports their instructions, vector FMAs, stack reloads, and llvm-mca's
cycles per iteration; then, per MobileNet v1 layer (shared/bench/shapes.csv),
instructions and estimated cycles per output. It also checks whether the
dot-product/fp16 feature target generates different code.

usage: python3 static_report.py <ARM build dir> <output .md> [llvm-mca]
"""
import csv
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from asm_loops import inner_loops  # noqa: E402

LANES = 4                      # float32 lanes of a 128-bit NEON register
MCA_CPU = 'neoverse-n1'
FEATURE_TARGET = 'arm-64-linux-arm_dot_prod-arm_fp16'
N1_FMA_PIPES = 2               # Neoverse N1 / Cortex-A76: two 128-bit FP/ASIMD pipes (V0, V1)


def generator_commands(arm_build):
    """The generator command line of each kernel variant in the ARM build."""
    out = subprocess.run(['ninja', '-C', arm_build, '-t', 'commands'], check=True, capture_output=True, text=True)
    commands = {}
    for line in out.stdout.splitlines():
        if 'sepconv_generators' not in line or ' -g ' not in line:
            continue
        args = shlex.split(line.split('&&')[-1].strip())
        name = args[args.index('-f') + 1]
        commands[name] = args
    return commands


def emit_assembly(args, out_dir, target):
    args = list(args)
    args[args.index('-e') + 1] = 'assembly'
    args[args.index('-o') + 1] = out_dir
    args = [a.replace('target=arm-64-linux', f'target={target}') if a.startswith('target=') else a for a in args]
    subprocess.run(args, check=True, capture_output=True)
    name = args[args.index('-n') + 1] if '-n' in args else args[args.index('-f') + 1]
    with open(os.path.join(out_dir, name + '.s')) as f:
        return f.read()


def instruction_stream(asm, name):
    """The instructions, without labels, comments, directives or the function's name."""
    return [l.split('//')[0].strip().replace(name, 'K') for l in asm.splitlines()
            if l.startswith('\t') and not l.lstrip().startswith(('.', '//')) and l.split('//')[0].strip()]


def mca_cycles(mca, loop, iterations=100):
    with tempfile.NamedTemporaryFile('w', suffix='.s', delete=False) as f:
        f.write(loop.mca_source())
    try:
        out = subprocess.run([mca, '-mtriple=aarch64', f'-mcpu={MCA_CPU}', f'-iterations={iterations}', f.name],
                             check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(f.name)
    total = int(re.search(r'Total Cycles:\s+(\d+)', out).group(1))
    return total / iterations


def mca_model(mca):
    with tempfile.NamedTemporaryFile('w', suffix='.s', delete=False) as f:
        f.write('fmla v0.4s, v1.4s, v2.4s\n')
    try:
        out = subprocess.run([mca, '-mtriple=aarch64', f'-mcpu={MCA_CPU}', '-iterations=1', f.name],
                             check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(f.name)
    m = re.search(r'\[\d+\]\s+-\s+(\w+?)Unit', out)
    return m.group(1) if m else '?'


class LoopStats:
    def __init__(self, loop, mca):
        self.loop = loop
        self.instructions = len(loop.instructions)
        self.fmla = loop.fmla
        self.reloads = loop.reloads
        self.spills = loop.spills
        self.cycles = mca_cycles(mca, loop)
        self.mix = Counter(i.split()[0] for i in loop.instructions).most_common(6)

    @property
    def fma_peak_fraction(self):  # of the two FMA pipes, at llvm-mca's cycles
        return self.fmla / (N1_FMA_PIPES * self.cycles)


def main():
    build, out_md = sys.argv[1], sys.argv[2]
    mca = sys.argv[3] if len(sys.argv) > 3 else 'llvm-mca'
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    commands = generator_commands(build)
    if not commands:
        sys.exit(f'no kernel variants in {build} (build it first: ctest -R arm_cross_build)')
    work = tempfile.mkdtemp(prefix='sepconv_arm_asm_')
    asm, same_with_features, loops = {}, {}, {}
    for name, args in sorted(commands.items()):
        base = emit_assembly(args, work, 'arm-64-linux')
        feat = emit_assembly(args, work, FEATURE_TARGET)
        asm[name] = base
        same_with_features[name] = instruction_stream(base, name) == instruction_stream(feat, name)
        loops[name] = [LoopStats(l, mca) for l in inner_loops(base) if l.fmla]

    def main_loop(name, kind, max_columns=None):
        """The innermost loop of stage `kind` with the most FMAs (the largest tile), optionally one whose
        column tile (FMAs / taps, one vector of channels) fits max_columns."""
        cands = [l for l in loops[name] if kind in l.loop.block]
        if max_columns is not None:
            fitting = [l for l in cands if l.fmla // 9 <= max_columns]
            cands = fitting or cands
        return max(cands, key=lambda l: l.fmla)

    w = []
    w.append('# ARM64 (AArch64 NEON) kernels: static evidence\n')
    w.append('Generated by `bench/arm/run.sh` (bench/arm/static_report.py): the assembly of every kernel '
             'variant of the ARM cross build (`arm-64-linux`, the generator of this commit), its innermost '
             f'arithmetic loops, and `llvm-mca -mcpu={MCA_CPU}` cycles per loop iteration. qemu-user runs '
             'the tests but its timing says nothing about ARM hardware, so there are no timings here.\n')
    w.append(f'llvm-mca: `{subprocess.run([mca, "--version"], capture_output=True, text=True).stdout.split(chr(10))[1].strip()}`; '
             f'its `{MCA_CPU}` uses the **{mca_model(mca)}** scheduling model (this LLVM has no Neoverse N1 / '
             'Cortex-A76 model of its own; Debian 12 has none newer). The FMA peak fraction is '
             f'FMAs / ({N1_FMA_PIPES} pipes x cycles): N1 and A76 issue two 128-bit FMLA per cycle.\n')

    w.append('## Dot-product / fp16 feature variant\n')
    same = [n for n in commands if same_with_features[n]]
    w.append(f'`{FEATURE_TARGET}` vs `arm-64-linux`: identical instructions in {len(same)} of '
             f'{len(commands)} variants' + (' (all).' if len(same) == len(commands) else
                                             f'; differ: {", ".join(n for n in commands if n not in same)}.') +
             ' The kernels are float32 throughout; dot-product (int8) and fp16 arithmetic have nothing to do, '
             'so a multi-target library with that variant would only double the code.\n')

    w.append('## Every variant: innermost arithmetic loops\n')
    w.append('| variant | loop (LLVM block) | instructions | vector FMAs | stack reloads / spills | mca cycles/iter | FMA peak | top instructions |')
    w.append('| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |')
    for name in sorted(commands):
        ls = sorted(loops[name], key=lambda l: -l.fmla)
        shown, seen = [], set()
        for l in ls:  # one row per distinct loop shape, largest first
            key = (l.instructions, l.fmla)
            if key not in seen:
                seen.add(key)
                shown.append(l)
        for l in shown[:4]:
            mix = ', '.join(f'{op} {n}' for op, n in l.mix)
            w.append(f'| {name} | `{l.loop.block}` | {l.instructions} | {l.fmla} | {l.reloads} / {l.spills} | '
                     f'{l.cycles:.1f} | {100 * l.fma_peak_fraction:.0f}% | {mix} |')
    w.append('')

    w.append('## MobileNet v1 layers (batch 1)\n')
    w.append('Per output element, from the main loop of the variant the registry picks (inner loops only: '
             'tile set-up and stores are not counted). Depthwise: the 3x3 tile loop (FMAs / 9 columns of 4 channels); '
             'pointwise: the reduction loop, times C_in; fused separable: its depthwise-stage loops '
             '(9 C_in / C_out intermediate values per output) plus its reduction loop.\n')
    w.append('| layer | shape | stage | variant | instructions / output | mca cycles / output | FMA peak |')
    w.append('| --- | --- | --- | --- | ---: | ---: | ---: |')
    shapes = os.path.join(root, 'shared', 'bench', 'shapes.csv')
    if not os.path.exists(shapes):
        shapes = '/work/shared/bench/shapes.csv'
    with open(shapes) as f:
        rows = [r for r in csv.reader(l for l in f if not l.startswith('#')) if r and r[0] == 'mobilenet_v1']
    for r in rows:
        layer, h, wd, c, kh, kw, s, out_c = r[1], int(r[2]), int(r[3]), int(r[4]), int(r[5]), int(r[6]), int(r[7]), int(r[10])
        out_w = -(-wd // s)
        taps = kh * kw
        shape = f'{h}x{wd}x{c} s{s} -> {out_c}'
        dw_name = f'sepconv_f32_dwconv_{kh}x{kw}m1s{s}_nhwc'
        dw = main_loop(dw_name, 'output', max_columns=out_w)
        per_iter = LANES * dw.fmla / taps
        note = '' if dw.fmla // taps * 1 >= main_loop(dw_name, 'output').fmla // taps else f' (out_w {out_w} < tile: {dw.fmla // taps}-column tile)'
        w.append(f'| {layer} | {shape} | depthwise | {dw_name}{note} | {dw.instructions / per_iter:.1f} | '
                 f'{dw.cycles / per_iter:.2f} | {100 * dw.fma_peak_fraction:.0f}% |')
        pw = main_loop('sepconv_f32_pwconv_nhwc', 'pointwise')
        w.append(f'| {layer} | {shape} | pointwise | sepconv_f32_pwconv_nhwc | {pw.instructions * c / (LANES * pw.fmla):.1f} | '
                 f'{pw.cycles * c / (LANES * pw.fmla):.2f} | {100 * pw.fma_peak_fraction:.0f}% |')
        sep_name = f'sepconv_f32_sepconv_{kh}x{kw}m1s{s}_nhwc'
        group = []  # the depthwise-stage loops of the largest tile: those before its reduction loop
        for l in loops[sep_name]:
            if 'pointwise' in l.loop.block:
                spw = l
                break
            group.append(l)
        d_instr = sum(l.instructions for l in group)
        d_cycles = sum(l.cycles for l in group)
        d_lanes = LANES * sum(l.fmla for l in group)
        inter = taps * c / out_c
        instr = d_instr * inter / d_lanes + spw.instructions * c / (LANES * spw.fmla)
        cycles = d_cycles * inter / d_lanes + spw.cycles * c / (LANES * spw.fmla)
        flops = (taps * c / out_c + c) / LANES  # vector FMAs per output
        w.append(f'| {layer} | {shape} | fused separable | {sep_name} | {instr:.1f} | {cycles:.2f} | '
                 f'{100 * flops / (N1_FMA_PIPES * cycles):.0f}% |')
    w.append('')
    with open(out_md, 'w') as f:
        f.write('\n'.join(w) + '\n')
    print('\n'.join(w))


if __name__ == '__main__':
    main()
