// had-hls RTL twin of templates/hls/nnet_attention_common.h: normalise_row (sequential, DN lanes), plus the fixed-point conversion
// (ap_fixed quantisation / overflow modes, had_hls/fixed.py) and a small stream FIFO.
`default_nettype none

// normalise_row (golden.normalise_av): one head of one query row, DN of its D elements per cycle, pipelined.
//   S = 0 -> ctx = 0. Else p = floor(log2 S) (leading one), idx = the R bits of S below its leading one,
//   r = recip_table[idx] ~ 2^p / S,  ctx[c] = sat_CW(round_half_up(acc[c] * r >> sh)),  sh = VF + RF + p - CF.
//   load: snapshot acc[0..D-1] (the AV accumulators are free for the next job), read r (synchronous ROM of 2^R
//         entries: one block RAM), register sh - 1 and S = 0;
//   step: issue the next DN elements (the snapshot shifts down by DN); they pass
//     M       prod = acc * r                        (mul_wide: DSP slice products, then their sum; MLAT cycles)
//     Q       q = prod >>> (sh - 1)                 (a barrel shift by the row's constant)
//     R       hi = q >= 2 lim_hi + 1, lo = q <= 2 lim_lo - 2, v = (q + 1) >>> 1 on CW + 2 bits
//     O       ctx = S = 0 ? 0 : hi ? lim_hi : lo ? lim_lo : v
//   round_half_up(x >> sh) = floor((floor(x / 2^(sh-1)) + 1) / 2): the same integers as the single-cycle form.
//   ctx / out_v / out_tag leave LAT = MLAT + 3 cycles after the step (normalise_latency in had_hls.rtl.generate);
//   the row's sh - 1 and S = 0 travel with each step, so the next row's load may come while these are in flight.
module normalise_row #(
    parameter D    = 8,
    parameter DN   = 8,     // lanes (elements per cycle); must divide D
    parameter SUMW = 21,
    parameter AVW  = 40,
    parameter RW   = 18,    // recip table width (unsigned)
    parameter R    = 10,    // recip_index_bits
    parameter NPW  = 59,    // spec.widths['norm_prod']
    parameter CW   = 16,    // context width (signed)
    parameter VF   = 10,
    parameter RF   = 17,
    parameter CF   = 10,
    parameter TW   = 1,     // tag bits
    parameter RECIP_FILE = "recip_table.hex"
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             en,
    input  wire             load,
    input  wire             step,
    input  wire [SUMW-1:0]  sum,
    input  wire [D*AVW-1:0] acc,
    input  wire [TW-1:0]    in_tag,   // with step
    output reg  [DN*CW-1:0] ctx,
    output reg              out_v,
    output reg  [TW-1:0]    out_tag
);
    localparam XW = NPW + 3;
    localparam SHB = $clog2(VF + RF + SUMW + 1) + 1;   // bits of sh - 1
    integer b, c;

    reg [RW-1:0] recip_rom [0:(1 << R)-1];
    initial $readmemh(RECIP_FILE, recip_rom);

    // load: leading one of S, reciprocal index, sh - 1
    reg [SUMW+R-1:0] shifted;
    reg [R-1:0] idx;
    integer pi;
    always @* begin
        pi = 0;
        for (b = 0; b < SUMW; b = b + 1) if (sum[b]) pi = b;
        shifted = {{R{1'b0}}, sum};
        if (pi >= R) shifted = shifted >> (pi - R);
        else shifted = shifted << (R - pi);
        idx = shifted[R-1:0];
    end
    reg [D*AVW-1:0] a_r;
    reg [RW-1:0] r;
    reg [SHB-1:0] sh1;               // sh - 1 of the loaded row
    reg z;                           // S = 0
    always @(posedge clk) begin
        if (en && load) begin
            a_r <= acc;
            r <= recip_rom[idx];
            sh1 <= (sum == 0) ? {SHB{1'b0}} : VF + RF + pi - CF - 1;
            z <= (sum == 0);
        end else if (en && step) begin
            a_r <= a_r >> (DN * AVW);
        end
    end

    // M: the products (mul_wide, MLAT cycles), with the step's facts as the tag
    localparam TWM = 1 + TW + SHB + 1;          // {step, tag, sh - 1, S = 0}
    wire [DN*XW-1:0] mp;
    wire [TWM-1:0] mt;
    genvar g;
    generate
        for (g = 0; g < DN; g = g + 1) begin : lane
            wire [TWM-1:0] t;
            mul_wide #(.AW(AVW), .BW(RW), .PW(XW), .TW(TWM)) mul (
                .clk(clk), .rst(rst), .en(en), .a(a_r[g*AVW +: AVW]), .b(r), .in_tag({step, in_tag, sh1, z}),
                .p(mp[g*XW +: XW]), .out_tag(t));
            if (g == 0) begin : tag
                assign mt = t;
            end
        end
    endgenerate
    wire m_v, m_z;
    wire [TW-1:0] m_t;
    wire [SHB-1:0] m_s;
    assign {m_v, m_t, m_s, m_z} = mt;
    // Q: q = prod >>> (sh - 1);  R: saturation flags and (q + 1) >>> 1;  O: ctx
    reg m3_v, m4_v;
    reg [TW-1:0] m3_t, m4_t;
    reg m3_z, m4_z;
    reg signed [XW-1:0] m3_q [0:DN-1];
    reg [DN-1:0] m4_hi, m4_lo;
    reg [DN*(CW+1)-1:0] m4_v1;
    reg signed [XW-1:0] qq;
    reg signed [CW+1:0] q2;
    wire signed [XW-1:0] lim_hi = (1 <<< (CW - 1)) - 1;
    wire signed [XW-1:0] lim_lo = -(1 <<< (CW - 1));
    always @(posedge clk) begin
        if (rst) begin
            m3_v <= 1'b0; m4_v <= 1'b0; out_v <= 1'b0;
        end else if (en) begin
            m3_v <= m_v; m4_v <= m3_v; out_v <= m4_v;
            m3_t <= m_t; m4_t <= m3_t; out_tag <= m4_t;
        end
        if (en) begin
            for (c = 0; c < DN; c = c + 1) begin
                m3_q[c] <= $signed(mp[c*XW +: XW]) >>> m_s;
                qq = m3_q[c];
                m4_hi[c] <= qq >= 2 * lim_hi + 1;
                m4_lo[c] <= qq <= 2 * lim_lo - 2;
                q2 = qq[CW+1:0];
                q2 = q2 + 1;
                m4_v1[c*(CW+1) +: CW+1] <= q2[CW+1:1];
                ctx[c*CW +: CW] <= m4_z ? {CW{1'b0}} : m4_hi[c] ? lim_hi[CW-1:0] : m4_lo[c] ? lim_lo[CW-1:0]
                                                     : m4_v1[c*(CW+1) +: CW];
            end
            m3_z <= m_z; m4_z <= m3_z;
        end
    end
endmodule

// Conversion of an exact signed value din * 2^-(F_in) to a type with F_out fractional bits, as ap_fixed does:
// RSH = F_in - F_out > 0 rounds by QUANT, LSH = F_out - F_in > 0 shifts left; then OVF into OW bits.
// QUANT: 0 AP_TRN, 1 AP_TRN_ZERO, 2 AP_RND, 3 AP_RND_ZERO, 4 AP_RND_INF, 5 AP_RND_MIN_INF, 6 AP_RND_CONV
// OVF:   0 AP_WRAP, 1 AP_SAT, 2 AP_SAT_ZERO, 3 AP_SAT_SYM   (index in had_hls.fixed.QUANT_MODES / OVERFLOW_MODES)
module fixed_convert #(
    parameter IW = 40,
    parameter RSH = 0,
    parameter LSH = 0,
    parameter OW = 16,
    parameter OSIGNED = 1,
    parameter QUANT = 0,
    parameter OVF = 0
) (
    input  wire [IW-1:0] din,   // two's complement
    output reg  [OW-1:0] dout
);
    localparam SW = ((IW + LSH > OW) ? IW + LSH : OW) + 3;
    localparam RSH1 = (RSH > 0) ? RSH - 1 : 0;
    reg signed [SW-1:0] x, fl, rem, half, r, hi, lo;
    reg up, neg;
    always @* begin
        x = {{(SW-IW){din[IW-1]}}, din};
        x = x <<< LSH;
        neg = x < 0;
        if (RSH > 0) begin
            fl = x >>> RSH;
            rem = x - (fl <<< RSH);
            half = 1;
            half = half <<< RSH1;
            case (QUANT)
                0: up = 1'b0;
                1: up = neg && (rem != 0);
                2: up = rem >= half;
                3: up = (rem > half) || ((rem == half) && neg);
                4: up = (rem > half) || ((rem == half) && !neg);
                5: up = rem > half;
                default: up = (rem > half) || ((rem == half) && fl[0]);
            endcase
            r = fl + up;
        end else begin
            up = 1'b0;
            r = x;
        end
        if (OSIGNED) begin
            hi = 1; hi = (hi <<< (OW - 1)) - 1;
            lo = -(hi + 1);
        end else begin
            hi = 1; hi = (hi <<< OW) - 1;
            lo = 0;
        end
        if (OVF == 3 && OSIGNED) lo = -hi;
        if (OVF == 0 || (r <= hi && r >= lo)) dout = r[OW-1:0];
        else if (OVF == 2) dout = {OW{1'b0}};
        else if (r > hi) dout = hi[OW-1:0];
        else dout = lo[OW-1:0];
    end
endmodule

// word_select: word sel of N words of W bits (an AND-OR multiplexer over constant slices: a variable part-select
// x[sel*W +: W] becomes a barrel shifter over all N*W bits in Yosys, far larger and slower to synthesise).
module word_select #(
    parameter W  = 8,
    parameter N  = 2,
    parameter SB = 4
) (
    input  wire [N*W-1:0] in,
    input  wire [SB-1:0]  sel,
    output reg  [W-1:0]   out
);
    integer i;
    always @* begin
        out = {W{1'b0}};
        for (i = 0; i < N; i = i + 1) if (sel == i) out = in[i*W +: W];
    end
endmodule

// Synchronous FIFO with valid/ready on both sides (DEPTH entries, any DEPTH >= 1).
module stream_fifo #(
    parameter W = 16,
    parameter DEPTH = 4
) (
    input  wire         clk,
    input  wire         rst,
    input  wire         in_valid,
    output wire         in_ready,
    input  wire [W-1:0] in_data,
    output wire         out_valid,
    input  wire         out_ready,
    output wire [W-1:0] out_data
);
    localparam AB = (DEPTH > 1) ? $clog2(DEPTH) : 1;
    reg [W-1:0] mem [0:DEPTH-1];
    reg [AB-1:0] rd, wr;
    reg [AB:0] count;
    wire push = in_valid && in_ready;
    wire pop = out_valid && out_ready;
    assign in_ready = count < DEPTH;
    assign out_valid = count != 0;
    assign out_data = mem[rd];
    always @(posedge clk) begin
        if (rst) begin
            rd <= 0; wr <= 0; count <= 0;
        end else begin
            if (push) begin
                mem[wr] <= in_data;
                wr <= (wr == DEPTH - 1) ? {AB{1'b0}} : wr + 1'b1;
            end
            if (pop) rd <= (rd == DEPTH - 1) ? {AB{1'b0}} : rd + 1'b1;
            count <= count + push - pop;
        end
    end
endmodule

// sum_tree: out = sum of N values of WI bits (signed when SIGNED), a balanced adder tree of LV = ceil(log2 N) levels
// with a register after every RE levels and after the last (LAT = max(1, ceil(LV / RE)) cycles; N = 1: one
// register). The tag (valid, first, ... of the caller) travels alongside, cleared by rst. Width grows by one bit a
// level; out has WO bits (sign- or zero-extended, WO >= WI + LV).
module sum_tree #(
    parameter N      = 4,
    parameter WI     = 8,
    parameter WO     = 10,
    parameter SIGNED = 0,
    parameter RE     = 2,
    parameter TW     = 1
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          en,
    input  wire [N*WI-1:0] in,
    input  wire [TW-1:0] in_tag,
    output wire [WO-1:0] out,
    output wire [TW-1:0] out_tag
);
    localparam LV = (N > 1) ? $clog2(N) : 0;
    genvar l, i;
    generate
        if (LV == 0) begin : one
            reg [WO-1:0] r;
            reg [TW-1:0] tg;
            always @(posedge clk) begin
                if (rst) tg <= {TW{1'b0}};
                else if (en) tg <= in_tag;
                if (en) r <= SIGNED ? {{(WO-WI){in[WI-1]}}, in} : {{(WO-WI){1'b0}}, in};
            end
            assign out = r;
            assign out_tag = tg;
        end else begin : tree
            for (l = 0; l < LV; l = l + 1) begin : lvl
                localparam NI = (N + (1 << l) - 1) >> l;        // values entering level l
                localparam NO = (NI + 1) / 2;
                localparam WL = WI + l;                          // their width
                localparam REG = ((l + 1) % RE == 0) || (l == LV - 1);
                wire [NI*WL-1:0] vin;
                wire [TW-1:0] tin;
                wire [NO*(WL+1)-1:0] vsum;
                for (i = 0; i < NO; i = i + 1) begin : add
                    wire [WL-1:0] a = vin[(2*i)*WL +: WL];
                    wire [WL-1:0] b;
                    if (2 * i + 1 < NI) begin : two
                        assign b = vin[(2*i+1)*WL +: WL];
                    end else begin : single
                        assign b = {WL{1'b0}};
                    end
                    wire [WL:0] ax = SIGNED ? {a[WL-1], a} : {1'b0, a};
                    wire [WL:0] bx = SIGNED ? {b[WL-1], b} : {1'b0, b};
                    assign vsum[i*(WL+1) +: WL+1] = ax + bx;
                end
                wire [NO*(WL+1)-1:0] vout;
                wire [TW-1:0] tout;
                if (REG) begin : r
                    reg [NO*(WL+1)-1:0] v;
                    reg [TW-1:0] tg;
                    always @(posedge clk) begin
                        if (rst) tg <= {TW{1'b0}};
                        else if (en) tg <= tin;
                        if (en) v <= vsum;
                    end
                    assign vout = v;
                    assign tout = tg;
                end else begin : c
                    assign vout = vsum;
                    assign tout = tin;
                end
                if (l == 0) begin : first
                    assign vin = in;
                    assign tin = in_tag;
                end else begin : next
                    assign vin = lvl[l-1].vout;
                    assign tin = lvl[l-1].tout;
                end
            end
            wire [WI+LV-1:0] top = lvl[LV-1].vout;
            assign out = SIGNED ? {{(WO-WI-LV){top[WI+LV-1]}}, top} : {{(WO-WI-LV){1'b0}}, top};
            assign out_tag = lvl[LV-1].tout;
        end
    endgenerate
endmodule

// mul_wide: p = a * b for a signed AW-bit a and an unsigned BW-bit b (BW <= 26: b rides the DSP48's 27-bit port),
// pipelined so that no fabric adder joins partial products in the multiplier's cycle: a is cut into 17-bit slices
// (the low ones unsigned, the top one signed), each slice times b is one DSP product (registered: MREG), and the
// slice products, shifted into place, are summed by sum_tree (a register after every level).
// LAT = 1 + max(1, ceil(log2(ceil(AW / 17)))) (mul_wide_latency in had_hls.rtl.generate).
module mul_wide #(
    parameter AW = 40,
    parameter BW = 18,
    parameter PW = 58,      // >= AW + BW
    parameter TW = 1
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          en,
    input  wire [AW-1:0] a,
    input  wire [BW-1:0] b,
    input  wire [TW-1:0] in_tag,
    output wire [PW-1:0] p,
    output wire [TW-1:0] out_tag
);
    localparam K = (AW + 16) / 17;
    genvar k;
    reg [K*PW-1:0] pp;
    reg [TW-1:0] t1;
    generate
        for (k = 0; k < K; k = k + 1) begin : slice
            localparam LO = 17 * k;
            localparam SW = (k == K - 1) ? AW - LO : 17;
            wire [SW-1:0] s = a[LO +: SW];
            reg signed [PW-1:0] prod;
            always @* begin
                if (k == K - 1) prod = $signed(s) * $signed({1'b0, b});          // the top slice carries the sign
                else prod = $signed({1'b0, s}) * $signed({1'b0, b});
            end
            always @(posedge clk) if (en) pp[k*PW +: PW] <= prod <<< LO;
        end
    endgenerate
    always @(posedge clk) begin
        if (rst) t1 <= {TW{1'b0}};
        else if (en) t1 <= in_tag;
    end
    wire [PW+$clog2(K+1)-1:0] p_full;
    sum_tree #(.N(K), .WI(PW), .WO(PW + $clog2(K + 1)), .SIGNED(1), .RE(1), .TW(TW)) sum (
        .clk(clk), .rst(rst), .en(en), .in(pp), .in_tag(t1), .out(p_full), .out_tag(out_tag));
    assign p = p_full[PW-1:0];
endmodule
`default_nettype wire
