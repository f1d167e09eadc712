// had-hls RTL twin of templates/hls/nnet_attention_common.h: normalise_row (sequential, DN lanes), plus the fixed-point conversion
// (ap_fixed quantisation / overflow modes, had_hls/fixed.py) and a small stream FIFO.
`default_nettype none

// normalise_row (golden.normalise_av): one head of one query row, DN of its D elements per cycle.
//   S = 0 -> ctx = 0. Else p = floor(log2 S) (leading one), idx = the R bits of S below its leading one,
//   r = recip_table[idx] ~ 2^p / S,  ctx[c] = sat_CW(round_half_up(acc[c] * r >> (VF + RF + p - CF))).
//   load: snapshot S and acc[0..D-1] (the AV accumulators are free for the next job) and read r (synchronous
//         ROM of 2^R entries: one block RAM instead of a LUT ROM);
//   step: shift the snapshot down by DN elements. ctx = elements c .. c+DN-1 after c/DN steps (combinational,
//         DN lanes of multiply + round + saturate; D/DN steps per head, the cores pick DN so that D/DN <= ceil(L/P)).
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
    parameter RECIP_FILE = "recip_table.hex"
) (
    input  wire             clk,
    input  wire             load,
    input  wire             step,
    input  wire [SUMW-1:0]  sum,
    input  wire [D*AVW-1:0] acc,
    output reg  [DN*CW-1:0] ctx
);
    localparam XW = NPW + 3;
    integer b, c, pi, p, shift;
    reg [SUMW+R-1:0] shifted;
    reg  [R-1:0]  idx;
    reg signed [XW-1:0] prod, half, lim_hi, lim_lo;
    reg signed [AVW-1:0] a;
    reg signed [RW:0] rs;

    reg [RW-1:0] recip_rom [0:(1 << R)-1];
    initial $readmemh(RECIP_FILE, recip_rom);
    reg [SUMW-1:0]  s_r;
    reg [D*AVW-1:0] a_r;
    reg [RW-1:0]    r;

    // reciprocal index of the incoming S (read at load)
    always @* begin
        pi = 0;
        for (b = 0; b < SUMW; b = b + 1) if (sum[b]) pi = b;
        shifted = {{R{1'b0}}, sum};
        if (pi >= R) shifted = shifted >> (pi - R);
        else shifted = shifted << (R - pi);
        idx = shifted[R-1:0];
    end

    always @(posedge clk) begin
        if (load) begin
            s_r <= sum;
            a_r <= acc;
            r <= recip_rom[idx];
        end else if (step) begin
            a_r <= a_r >> (DN * AVW);
        end
    end

    always @* begin
        p = 0;
        for (b = 0; b < SUMW; b = b + 1) if (s_r[b]) p = b;
        shift = VF + RF + p - CF;
        lim_hi = (1 <<< (CW - 1)) - 1;
        lim_lo = -(1 <<< (CW - 1));
        rs = {1'b0, r};
        if (shift < 1) shift = 1;  // only when S = 0 (then ctx = 0): keeps the shifts below in range
        for (c = 0; c < DN; c = c + 1) begin
            a = a_r[c*AVW +: AVW];
            prod = a * rs;
            half = 1;
            half = half <<< (shift - 1);
            prod = (prod + half) >>> shift;
            if (s_r == 0) prod = 0;
            else if (prod > lim_hi) prod = lim_hi;
            else if (prod < lim_lo) prod = lim_lo;
            ctx[c*CW +: CW] = prod[CW-1:0];
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
`default_nettype wire
