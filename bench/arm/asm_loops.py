"""Innermost loops of LLVM AArch64 assembly (.s from Halide's `-e assembly`).

LLVM marks each innermost loop's header block with "This Inner Loop Header";
a loop's body runs from that label to the last branch back to it. For each
loop this gives its instructions (text for llvm-mca), the vector FMAs, and
the register spills and reloads LLVM inserted (marked "Spill"/"Reload").
"""
import re
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
