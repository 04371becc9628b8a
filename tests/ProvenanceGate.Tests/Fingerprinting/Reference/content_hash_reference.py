# Independent transcription of ContentHash (src/ProvenanceGate.Core/Fingerprinting/ContentHash.cs) in plain Python,
# written from its documented algorithm, not from its output. It produced the literals pinned in
# ContentHashFixedAnswerTests.cs; run it (python3 content_hash_reference.py) to re-derive them.
# Schema 5: two sums over 8-byte words of terms keyed by the word's position.
import struct
M=(1<<64)-1
K1=0x9E3779B185EBCA87; K2=0xC2B2AE3D27D4EB4F
def rotl(x,r): return ((x<<r)|(x>>(64-r)))&M
def aval(x):
    x^=x>>33; x=(x*0xFF51AFD7ED558CCD)&M; x^=x>>33; x=(x*0xC4CEB9FE1A85EC53)&M; return x^(x>>33)
def h(stream,count,narrow):
    stream=stream+bytes((-len(stream))%8)
    s1=s2=0
    for k in range(len(stream)//8):
        w=struct.unpack_from('<Q',stream,8*k)[0]
        x=w^(((k+1)*K1)&M); y=w^(((k+1)*K2)&M)
        s1=(s1+(x&0xFFFFFFFF)*(x>>32)+rotl(w,32))&M
        s2=(s2+(y&0xFFFFFFFF)*(y>>32)+w)&M
    L=count^((0xB5<<56) if narrow else 0)
    low=aval(s1^rotl(s2,29)^L)
    high=aval(s2^rotl(s1,41)^((L*K1)&M))
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
