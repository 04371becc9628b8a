# Independent transcription of ContentHash (src/ProvenanceGate.Core/Fingerprinting/ContentHash.cs) in plain Python,
# written from its documented algorithm, not from its output. It produced the literals pinned in
# ContentHashFixedAnswerTests.cs; run it (python3 content_hash_reference.py) to re-derive them.
import struct
M=(1<<64)-1
P1=0x9E3779B185EBCA87; P2=0xC2B2AE3D27D4EB4F
def rotl(x,r): return ((x<<r)|(x>>(64-r)))&M
def aval(x):
    x^=x>>33; x=(x*0xFF51AFD7ED558CCD)&M; x^=x>>33; x=(x*0xC4CEB9FE1A85EC53)&M; return x^(x>>33)
def h(stream,count,narrow):
    seed=0x243F6A8885A308D3; lanes=[]
    for i in range(32):
        seed=((seed+0x9E3779B97F4A7C15)*P1)&M; lanes.append(seed^(seed>>29))
    def mix(j,w): lanes[j]=(rotl(lanes[j]^((w*P2)&M),31)*P1)&M
    whole=len(stream)//256*256
    for b in range(0,whole,256):
        for j in range(32): mix(j,struct.unpack_from('<Q',stream,b+8*j)[0])
    tail=stream[whole:]; tail=tail+bytes((-len(tail))%4)
    for i in range(len(tail)//4):
        mix(i%32, struct.unpack_from('<I',tail,4*i)[0] | ((i+1)<<32))
    a=b=c=d=0
    for j in range(0,32,4):
        a=((rotl(a,27)^lanes[j])*P1)&M; b=((rotl(b,27)^lanes[j+1])*P1)&M
        c=((rotl(c,27)^lanes[j+2])*P1)&M; d=((rotl(d,27)^lanes[j+3])*P1)&M
    L=count^((0xB5<<56) if narrow else 0)
    low=aval(a^rotl(b,17)^rotl(c,29)^rotl(d,43)^L)
    high=aval(d^rotl(c,13)^rotl(b,37)^rotl(a,53)^((L*P1)&M))
    return f"{high:016x}{low:016x}"
def floats(bits):
    if all(b&0xFFFF==0 for b in bits):
        return h(b''.join(struct.pack('<H',b>>16) for b in bits),len(bits),True)
    return h(b''.join(struct.pack('<I',b) for b in bits),len(bits),False)
f2b=lambda f: struct.unpack('<I',struct.pack('<f',f))[0]
print("empty", floats([]))
print("three", floats([f2b(1.0),f2b(-2.0),f2b(0.5)]))
print("tenth", floats([f2b(0.1)]))
print("narrow200", floats([f2b((k-100)/8) for k in range(200)]))
print("wide100", floats([(0x3F800001+k*12345)&0xFFFFFFFF for k in range(100)]))
raw=bytes(((b*7+3)&0xFF) for b in range(300))
print("raw300", h(raw,150,True))
