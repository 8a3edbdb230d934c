"""Innermost loops of LLVM AArch64 assembly (.s from Halide's `-e assembly`).

LLVM marks each innermost loop's header block with "This Inner Loop Header";
a loop's body runs from that label to the last branch back to it. For each
loop this gives its instructions (text for llvm-mca), the vector FMAs, and
the register spills and reloads LLVM inserted (marked "Spill"/"Reload").
"""
import re
from collections import Counter
from dataclasses import dataclass, field

_LABEL = re.compile(r'^(\.?[\w$.]+):\s*(?://\s*(.*))?$')
_BRANCH = re.compile(r'^\s+(b|b\.\w+|cbn?z|tbn?z)\s.*?([.\w$]+)\s*(?://.*)?$')


@dataclass
class Loop:
    label: str
    block: str                        # LLVM's name of the header block, e.g. "3_for_pointwise.s1.r_channels$x.us"
    instructions: list = field(default_factory=list)

    @property
    def fmla(self):                   # 4-lane float32 fused multiply-adds
        return sum(1 for i in self.instructions if re.match(r'fmla\s+v\d+\.4s', i))

    @property
    def spills(self):
        return sum(1 for i in self.instructions if i.startswith(('str', 'stp', 'stur')) and '[sp' in i)

    @property
    def reloads(self):
        return sum(1 for i in self.instructions if i.startswith(('ldr', 'ldp', 'ldur')) and '[sp' in i)

    def n1_bound(self):
        """Lower bound on cycles per iteration on a Neoverse N1 / Cortex-A76 from issue resources only
        (no latencies): decode 4 instructions/cycle; pipes V0-V1 (FP/ASIMD), L0-L1 (load/store
        address), S0-S1 + M (integer), B (branch), D (store data) -- the Arm Neoverse N1 Software
        Optimization Guide. LD1R and lane loads also use a V pipe; DUP from a general register uses
        M and V. Returns (cycles, binding resource)."""
        use = Counter()
        for i in self.instructions:
            op, _, operands = i.partition(' ')
            vector = re.search(r'\b[vqsd]\d+', operands) is not None
            if op in ('b', 'cbz', 'cbnz', 'tbz', 'tbnz', 'ret') or op.startswith('b.'):
                use['B'] += 1
            elif op.startswith(('ldr', 'ldp', 'ldur', 'ld1', 'ld2', 'ld3', 'ld4')):
                use['L'] += 2 if op == 'ldp' and re.match(r'\s*q', operands) else 1
                if op.startswith('ld1r') or re.search(r'\}\[\d+\]', operands):
                    use['V'] += 1
            elif op.startswith(('str', 'stp', 'stur', 'st1')):
                use['L'] += 1
                use['D'] += 1
            elif op == 'dup' and re.search(r',\s*[wx]\d+', operands):
                use['M'] += 1
                use['V'] += 1
            elif vector:
                use['V'] += 1
            else:
                use['I'] += 1
        bounds = {'decode': len(self.instructions) / 4, 'V': use['V'] / 2, 'L': use['L'] / 2,
                  'I': (use['I'] + use['M']) / 3, 'B': use['B'], 'D': use['D'] / 2}
        binding = max(bounds, key=bounds.get)
        return bounds[binding], binding

    def mca_source(self):
        return '\n'.join([f'{self.label}:'] + ['\t' + i for i in self.instructions]) + '\n'


def _instruction(line):
    if not line.startswith('\t') or line.lstrip().startswith(('.', '//')):
        return None
    text = line.split('//')[0].strip()
    return text or None


def inner_loops(asm_text):
    lines = asm_text.splitlines()
    loops = []
    for i, line in enumerate(lines):
        m = _LABEL.match(line)
        if not m:
            continue
        following = ' '.join(lines[i + 1:i + 4])
        if 'This Inner Loop Header' not in following:
            continue
        label, block = m.group(1), (m.group(2) or '').strip().strip('%"')
        # The body ends at the last branch back to the header (before the next function).
        end = None
        for j in range(i + 1, len(lines)):
            if lines[j].startswith('\t.cfi_endproc') or lines[j].startswith('\t.size'):
                break
            b = _BRANCH.match(lines[j])
            if b and b.group(2) == label:
                end = j
        if end is None:
            continue
        loop = Loop(label, block)
        for line2 in lines[i + 1:end + 1]:
            ins = _instruction(line2)
            if ins:
                loop.instructions.append(ins)
        loops.append(loop)
    return loops
