// had-hls RTL twin of the Scores loop of templates/hls/nnet_fp_attention.h (golden.fp_scores / fp_exp_weights),
// pipelined (every module registers its result; the caller's tag travels alongside):
//   fp_score_unit : P lanes, each a D-term dot product s_p = sum_c q[c] k_p[c] of qk mantissas (exact, SW bits,
//                   2 F_qk fractional bits); D multipliers per lane (registered: DSP MREG), then an adder tree with
//                   a register after every level (sum_tree). LAT = 1 + max(1, ceil(log2 D)).
//   fp_max_tree   : the largest valid score of a beat (a tree of compare-and-select, a register after every level;
//                   the running max over the row, first valid or strictly greater, equals the max of these).
//                   LAT = max(1, ceil(log2 P)).
//   fp_exp_index  : idx = min(T - 1, round_half_up((smax - s) * inv_sqrt_d >> SH))  (exact, IPW-bit product);
//                   D diff, M product (mul_wide), Q q = prod >> (SH - 1), O idx = min(T - 1, (q + 1) >> 1).
//                   LAT = 3 + mul_wide's.
`default_nettype none
module fp_score_unit #(
    parameter D    = 8,
    parameter P    = 4,
    parameter QW   = 16,
    parameter SW   = 36,
    parameter PACK = 0,     // 1: two lanes' products of one q element share a multiplier (QW <= 8), see below
    parameter TW   = 1
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              en,
    input  wire [D*QW-1:0]   q,
    input  wire [P*D*QW-1:0] k,
    input  wire [TW-1:0]     in_tag,
    output wire [P*SW-1:0]   s,
    output wire [TW-1:0]     out_tag
);
    // PACK (the INT8 packing of AMD WP486): for lanes 2i, 2i+1 and element c, one DSP48E2 multiplies
    // (k_2i * 2^18 + k_2i+1) (27-bit port) by q (18-bit port): the product is k_2i q 2^18 + k_2i+1 q, the low 18 bits
    // are k_2i+1 q (|.| < 2^(2 QW - 1) <= 2^15), and k_2i q = (product >> 18) + (the low part's sign). A register
    // stage after the multiplier splits the pair (LAT one more than unpacked; fp_score_latency in had_hls.rtl).
    localparam MW = 2 * QW;
    localparam NPAIR = PACK ? P / 2 : 0;        // packed pairs (an odd last lane is multiplied alone)
    integer p, c;
    reg [P*D*MW-1:0] m0, m;            // m0: the products of unpacked lanes; m: every lane's, into the adder trees
    reg [TW-1:0] m_tag, u_tag;
    reg signed [QW-1:0] qq, kk, ka, kb;
    reg signed [26:0] pk;
    reg [(NPAIR > 0 ? NPAIR * D : 1)*45-1:0] pp;  // 45-bit packed products, one vector (Verilator: no array in loops)
    reg signed [17:0] lo;
    reg signed [26:0] hi;
    always @(posedge clk) begin
        if (en) begin
            m_tag <= in_tag;
            for (p = 0; p < P; p = p + 1)
                for (c = 0; c < D; c = c + 1) begin
                    qq = q[c*QW +: QW];
                    if (p < 2 * NPAIR) begin
                        if (p % 2 == 0) begin
                            ka = k[(p*D + c)*QW +: QW];
                            kb = k[((p+1)*D + c)*QW +: QW];
                            pk = (ka <<< 18) + kb;
                            pp[((p/2)*D + c)*45 +: 45] <= pk * qq;
                        end
                    end else begin
                        kk = k[(p*D + c)*QW +: QW];
                        m0[(p*D + c)*MW +: MW] <= qq * kk;
                    end
                end
        end
    end
    generate
        if (NPAIR > 0) begin : unpack
            always @(posedge clk) begin
                if (en) begin
                    u_tag <= m_tag;
                    for (p = 0; p < NPAIR; p = p + 1)
                        for (c = 0; c < D; c = c + 1) begin
                            lo = pp[(p*D + c)*45 +: 18];
                            hi = ($signed(pp[(p*D + c)*45 +: 45]) >>> 18) + lo[17];
                            m[((2*p+1)*D + c)*MW +: MW] <= lo;
                            m[((2*p)*D + c)*MW +: MW] <= hi;
                        end
                    for (p = 2 * NPAIR; p < P; p = p + 1)     // an odd last lane: one more register
                        for (c = 0; c < D; c = c + 1) m[(p*D + c)*MW +: MW] <= m0[(p*D + c)*MW +: MW];
                end
            end
        end else begin : direct
            always @* begin
                u_tag = m_tag;
                m = m0;
            end
        end
    endgenerate
    genvar g;
    generate
        for (g = 0; g < P; g = g + 1) begin : lane
            wire [TW-1:0] t;
            sum_tree #(.N(D), .WI(MW), .WO(SW), .SIGNED(1), .RE(1), .TW(TW)) sum (
                .clk(clk), .rst(rst), .en(en), .in(m[g*D*MW +: D*MW]), .in_tag(u_tag), .out(s[g*SW +: SW]),
                .out_tag(t));
            if (g == 0) begin : tag
                assign out_tag = t;
            end
        end
    endgenerate
endmodule

module fp_max_tree #(
    parameter P  = 4,
    parameter SW = 36,
    parameter TW = 1
) (
    input  wire            clk,
    input  wire            rst,
    input  wire            en,
    input  wire [P-1:0]    lane_valid,
    input  wire [P*SW-1:0] s,
    input  wire [TW-1:0]   in_tag,
    output wire [SW-1:0]   smax,
    output wire            any,          // some lane was valid (smax meaningful)
    output wire [TW-1:0]   out_tag
);
    localparam LV = (P > 1) ? $clog2(P) : 0;
    genvar l;
    generate
        if (LV == 0) begin : one
            reg [SW-1:0] m;
            reg a;
            reg [TW-1:0] tg;
            always @(posedge clk) begin
                if (rst) tg <= {TW{1'b0}};
                else if (en) tg <= in_tag;
                if (en) begin m <= s; a <= lane_valid[0]; end
            end
            assign smax = m;
            assign any = a;
            assign out_tag = tg;
        end else begin : tree
            for (l = 0; l < LV; l = l + 1) begin : lvl
                localparam NI = (P + (1 << l) - 1) >> l;
                localparam NO = (NI + 1) / 2;
                wire [NI*SW-1:0] vin;
                wire [NI-1:0] ain;
                wire [TW-1:0] tin;
                reg [NO*SW-1:0] v;
                reg [NO-1:0] a;
                reg [TW-1:0] tg;
                integer j;
                always @(posedge clk) begin
                    if (rst) tg <= {TW{1'b0}};
                    else if (en) tg <= tin;
                    if (en)
                        for (j = 0; j < NO; j = j + 1) begin
                            if (2 * j + 1 >= NI || !ain[2*j+1] ||
                                (ain[2*j] && $signed(vin[(2*j)*SW +: SW]) >= $signed(vin[(2*j+1)*SW +: SW]))) begin
                                v[j*SW +: SW] <= vin[(2*j)*SW +: SW];
                                a[j] <= ain[2*j];
                            end else begin
                                v[j*SW +: SW] <= vin[(2*j+1)*SW +: SW];
                                a[j] <= 1'b1;
                            end
                        end
                end
                if (l == 0) begin : first
                    assign vin = s;
                    assign ain = lane_valid;
                    assign tin = in_tag;
                end else begin : next
                    assign vin = lvl[l-1].v;
                    assign ain = lvl[l-1].a;
                    assign tin = lvl[l-1].tg;
                end
            end
            assign smax = lvl[LV-1].v[SW-1:0];
            assign any = lvl[LV-1].a[0];
            assign out_tag = lvl[LV-1].tg;
        end
    endgenerate
endmodule

module fp_exp_index #(
    parameter SW  = 36,
    parameter IPW = 55,         // spec.widths['fp_index_prod']
    parameter INV = 46341,      // spec.fp_inv_sqrt_d
    parameter SH  = 23,         // spec.fp_index_shift
    parameter T   = 1024,       // fp_exp_table_size
    parameter TB  = 10,         // spec.widths['fp_index']
    parameter TW  = 1
) (
    input  wire          clk,
    input  wire          rst,
    input  wire          en,
    input  wire [SW-1:0] smax,
    input  wire [SW-1:0] s,
    input  wire [TW-1:0] in_tag,
    output reg  [TB-1:0] idx,
    output reg  [TW-1:0] out_tag
);
    localparam XW = IPW + 4;
    localparam QB = $clog2(2 * T + 1) + 1;    // q below the clamp
    localparam IB = $clog2(INV + 1);
    reg [SW:0] d1;                            // smax - s >= 0 (a valid key); anything for an invalid one (e = 0)
    reg [TW-1:0] t1, tq;
    wire [XW-1:0] prod;
    wire [TW-1:0] tm;
    reg [XW-1:0] q;
    wire [IB-1:0] inv = INV;
    always @(posedge clk) begin
        if (rst) begin
            t1 <= {TW{1'b0}}; tq <= {TW{1'b0}}; out_tag <= {TW{1'b0}};
        end else if (en) begin
            t1 <= in_tag; tq <= tm; out_tag <= tq;
        end
        if (en) d1 <= $signed({smax[SW-1], smax}) - $signed({s[SW-1], s});
    end
    mul_wide #(.AW(SW + 1), .BW(IB), .PW(XW), .TW(TW)) mul (
        .clk(clk), .rst(rst), .en(en), .a(d1), .b(inv), .in_tag(t1), .p(prod), .out_tag(tm));
    always @(posedge clk) begin
        if (en) begin
            q <= $signed(prod) >>> (SH - 1);
            // round half up: (q + 1) >> 1, clamped to T - 1 (q >= 2T - 1 <=> the rounded index >= T); q < 0 only
            // for an invalid lane
            idx <= ($signed(q) >= 2 * T - 1 || $signed(q) < 0) ? T - 1 : ((q[QB-1:0] + 1'b1) >> 1);
        end
    end
endmodule
`default_nettype wire
